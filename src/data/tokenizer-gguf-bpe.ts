/**
 * A tokenizer from GGUF metadata with a byte-level BPE vocabulary (`tokenizer.ggml.model` =
 * "gpt2": Qwen2/Qwen3, Llama 3, GPT-2 files as llama.cpp's converter writes them). The tokens,
 * merges, special tokens and llama.cpp's pre-tokenizer name (`tokenizer.ggml.pre`) are turned back
 * into the tokenizer.json they came from, which the Hugging Face tokenizer then runs, so encoding
 * is HF's (and llama.cpp's) exactly. Token types: 3 control and 4 user-defined tokens are matched
 * whole in the text (control ones count as special).
 */
import { tokenizerFromHf } from './tokenizer-hf.ts';
import type { Tokenizer } from './tokenizer.ts';

/** llama.cpp's pre-tokenizer names → the split regex of the HF tokenizer.json they stand for. */
const REGEX_BY_PRE: Record<string, string> = {
  'llama-bpe': "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  qwen2: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

function idOf(meta: Record<string, unknown>, key: string, n: number): number | null {
  const v = meta[key];
  const id = typeof v === 'bigint' ? Number(v) : v;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < n ? id : null;
}

/** The tokenizer.json and tokenizer_config.json a GGUF byte-level BPE vocabulary came from. */
export function bpeTokenizerFiles(meta: Record<string, unknown>, maxPositions?: number): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const tokens = meta['tokenizer.ggml.tokens'];
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) {
    throw new Error('GGUF metadata "tokenizer.ggml.tokens" is missing or not a string array; the file is incomplete');
  }
  const merges = meta['tokenizer.ggml.merges'];
  if (!Array.isArray(merges) || merges.some((m) => typeof m !== 'string')) {
    throw new Error('GGUF metadata "tokenizer.ggml.merges" is missing; a "gpt2" (byte-level BPE) vocabulary needs its merges');
  }
  const n = tokens.length;
  const types = Array.from(meta['tokenizer.ggml.token_type'] as ArrayLike<number> ?? [], Number);
  const pre = String(meta['tokenizer.ggml.pre'] ?? 'default');
  const regex = REGEX_BY_PRE[pre];
  if (!regex && pre !== 'gpt-2' && pre !== 'default') {
    throw new Error(`GGUF tokenizer.ggml.pre "${pre}" is not one tsugiki knows (gpt-2, llama-bpe, qwen2); load the model from its Hugging Face folder with tokenizer.json instead`);
  }
  const vocab: Record<string, number> = {};
  (tokens as string[]).forEach((t, id) => {
    if (!(t in vocab)) vocab[t] = id;
  });
  const added = (tokens as string[]).flatMap((content, id) =>
    types[id] === 3 || types[id] === 4 ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: types[id] === 3 }] : []);
  const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: regex
      ? { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, byteLevel(false)] }
      : byteLevel(true),
    post_processor: null,
    decoder: byteLevel(true),
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  const token = (key: string) => {
    const id = idOf(meta, key, n);
    return id === null ? null : (tokens as string[])[id];
  };
  const config: Record<string, unknown> = {
    bos_token: token('tokenizer.ggml.bos_token_id'),
    eos_token: token('tokenizer.ggml.eos_token_id'),
    pad_token: token('tokenizer.ggml.padding_token_id'),
    // llama.cpp adds BOS to gpt2 vocabularies only when the file says so.
    add_bos_token: meta['tokenizer.ggml.add_bos_token'] === true,
  };
  if (typeof meta['tokenizer.chat_template'] === 'string') config.chat_template = meta['tokenizer.chat_template'];
  if (maxPositions !== undefined) config.model_max_length = maxPositions;
  return { tokenizerJson: json, tokenizerConfig: { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, ...config } };
}

export function tokenizerFromGgufBpe(meta: Record<string, unknown>): Tokenizer {
  const { tokenizerJson, tokenizerConfig } = bpeTokenizerFiles(meta);
  return tokenizerFromHf(tokenizerJson, tokenizerConfig);
}
