/**
 * One tokenizer interface for every model source. Two implementations:
 * - `tokenizerFromHf(tokenizerJson, tokenizerConfig)`: Hugging Face `tokenizer.json` files
 *   (byte-level BPE: GPT-2, Llama 3, Qwen2.5, SmolLM2; Metaspace/SentencePiece BPE: Llama 2,
 *   TinyLlama), through `@huggingface/tokenizers`;
 * - `tokenizerFromGguf(metadata)`: the SentencePiece vocabulary stored in a GGUF file
 *   (`tokenizer.ggml.model == "llama"`), with our own SentencePiece BPE (`spm.ts`).
 *
 * Special tokens written in the text (`<|im_start|>`, `</s>`, …) are recognised as single tokens,
 * as Hugging Face does, so a rendered chat template tokenizes to its header tokens.
 */

export interface ChatMessage {
  role: string;
  content: string;
}

export interface EncodeOptions {
  /** Put BOS first. Default: what the model's tokenizer does (`addsBos`). */
  addBos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, chat markers) from the text. Default false. */
  skipSpecial?: boolean;
}

export interface Tokenizer {
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: number[], opts?: DecodeOptions): string;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  vocabSize: number;
  /** Whether the model's own tokenizer puts BOS first when encoding a prompt. */
  addsBos: boolean;
  /** Jinja chat template from the model files, or null for a base model without one. */
  chatTemplate: string | null;
  /**
   * Text the chat template writes after an assistant reply (`<|im_end|>`, `<|eot_id|>`, `</s>`),
   * or null without a template. Training completions end with it.
   */
  chatEndOfTurn: string | null;
  /** Renders `chatTemplate`; throws a readable error when the model has none. */
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  /** The vocabulary string of one token id (for previews and debugging). */
  idToToken(id: number): string | undefined;
}

export { tokenizerFromHf } from './tokenizer-hf.ts';
export { tokenizerFromGguf } from './tokenizer-gguf.ts';
