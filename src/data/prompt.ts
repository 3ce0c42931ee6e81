import type { Row } from './dataset.ts';
import type { ChatMessage, Tokenizer } from './tokenizer.ts';

export { splitTrainVal } from './split.ts';
export { makeBatches } from './batch.ts';
export type { Batch, BatchOptions } from './batch.ts';

/**
 * Prompt format for base models (no chat template). A row becomes
 *
 *   prompt     = `${input}\n### Answer:\n`     (after BOS when the tokenizer adds one)
 *   completion = `${output}` followed by the EOS token id
 *
 * Only the completion tokens (the answer and EOS) are trained on; the prompt is context.
 * `{input}` and `{output}` are replaced literally.
 */
export const BASE_PROMPT_TEMPLATE = '{input}\n### Answer:\n';
export const BASE_COMPLETION_TEMPLATE = '{output}';

/**
 * Instruct models with a chat template:
 *   prompt     = applyChatTemplate(row.messages ?? [{role: 'user', content: input}], {addGenerationPrompt: true})
 *   completion = `${output}` + the template's end of turn (`<|im_end|>`, `<|eot_id|>`, `</s>`),
 *                or + EOS when the template writes none.
 * The rendered prompt is tokenized with special tokens recognised; BOS is added only when the
 * tokenizer adds one and the template did not already write it.
 */
export interface PromptParts {
  prompt: string;
  completion: string;
  /** Whether the EOS token id follows the completion text. */
  appendEos: boolean;
}

export function formatExample(tokenizer: Tokenizer, row: Row, useChatTemplate: boolean): PromptParts {
  if (!useChatTemplate) {
    return {
      prompt: BASE_PROMPT_TEMPLATE.replace('{input}', () => row.input),
      completion: BASE_COMPLETION_TEMPLATE.replace('{output}', () => row.output),
      appendEos: true,
    };
  }
  const messages: ChatMessage[] = row.messages && row.messages.length > 0 ? row.messages : [{ role: 'user', content: row.input }];
  const prompt = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  const end = tokenizer.chatEndOfTurn;
  return end ? { prompt, completion: row.output + end, appendEos: false } : { prompt, completion: row.output, appendEos: true };
}

export interface EncodedExample {
  /** Token ids, at most seqLen of them: prompt then completion. */
  inputIds: number[];
  /** 1 where the token at i is predicted and counted (completion tokens), else 0; lossMask[0] is always 0. */
  lossMask: number[];
  /** Whether tokens were cut to fit seqLen. */
  truncated: boolean;
  /** Number of prompt tokens (including BOS) kept. */
  promptLength: number;
}

export interface EncodeExampleOptions {
  seqLen: number;
  useChatTemplate: boolean;
}

/** Prompt ids of a row (with BOS as described above) — also what generation starts from. */
export function encodePrompt(tokenizer: Tokenizer, parts: PromptParts, useChatTemplate: boolean): number[] {
  if (!useChatTemplate) return tokenizer.encode(parts.prompt, { addBos: tokenizer.addsBos });
  const ids = tokenizer.encode(parts.prompt, { addBos: false });
  const bos = tokenizer.bosId;
  return tokenizer.addsBos && bos !== null && ids[0] !== bos ? [bos, ...ids] : ids;
}

/**
 * Tokenizes one row for training or evaluation. Prompt and completion are tokenized separately
 * (so the boundary is exact). When they do not fit in seqLen the prompt is cut from the left
 * (BOS stays first) and the completion is kept whole; only a completion that alone does not fit
 * is cut, from the right, after one prompt token.
 */
export function encodeExample(tokenizer: Tokenizer, row: Row, opts: EncodeExampleOptions): EncodedExample {
  const { seqLen } = opts;
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`sequence length must be an integer ≥ 2, got ${seqLen}`);
  const parts = formatExample(tokenizer, row, opts.useChatTemplate);
  let prompt = encodePrompt(tokenizer, parts, opts.useChatTemplate);
  let completion = tokenizer.encode(parts.completion, { addBos: false });
  if (parts.appendEos && tokenizer.eosId !== null) completion.push(tokenizer.eosId);
  let truncated = false;
  if (prompt.length + completion.length > seqLen) {
    truncated = true;
    const bos = tokenizer.bosId;
    const head = bos !== null && prompt[0] === bos ? [bos] : [];
    const body = prompt.slice(head.length);
    // prompt tokens after BOS that still fit; body.length > room here, since the row overflows
    const room = seqLen - head.length - completion.length;
    if (room > 0 || (room === 0 && head.length > 0)) {
      prompt = [...head, ...body.slice(body.length - room)];
    } else {
      prompt = head.length > 0 ? head : body.slice(-1);
      completion = completion.slice(0, seqLen - prompt.length);
    }
  }
  const inputIds = [...prompt, ...completion];
  const lossMask = inputIds.map((_, i) => (i >= prompt.length && i > 0 ? 1 : 0));
  return { inputIds, lossMask, truncated, promptLength: prompt.length };
}
