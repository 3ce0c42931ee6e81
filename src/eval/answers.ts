/**
 * Free generation of a row's answer, as the Compare step and `tsugiki eval` show it next to the
 * scored prediction: the row's prompt (without its answer) is generated from until an end token.
 */
import type { Row } from '../data/dataset.ts';
import { encodePrompt, formatExample } from '../data/prompt.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { generate, type GenerateOptions } from '../model/generate.ts';
import type { LoadedModel } from '../model/load-source.ts';
import type { Network } from '../model/network.ts';

/** Token ids that end an answer: EOS (all of them) and the chat template's end-of-turn token. */
export function stopIds(model: LoadedModel, useChatTemplate: boolean): number[] {
  const t = model.tokenizer;
  const out = new Set<number>();
  const eos = model.config.eosId;
  for (const id of Array.isArray(eos) ? eos : eos === null ? [] : [eos]) out.add(id);
  if (t.eosId !== null) out.add(t.eosId);
  if (useChatTemplate && t.chatEndOfTurn) {
    const ids = t.encode(t.chatEndOfTurn, { addBos: false });
    if (ids.length === 1) out.add(ids[0]);
  }
  return [...out];
}

/** The row's prompt ids, at most `room` of them (BOS and the end of the prompt are kept). */
export function promptIds(tokenizer: Tokenizer, row: Row, useChatTemplate: boolean, room: number): number[] {
  const ids = encodePrompt(tokenizer, formatExample(tokenizer, { ...row, output: '' }, useChatTemplate), useChatTemplate);
  if (ids.length <= room) return ids;
  const bos = tokenizer.bosId;
  const head = bos !== null && ids[0] === bos ? [bos] : [];
  return [...head, ...ids.slice(ids.length - (room - head.length))];
}

export type AnswerSampling = Pick<GenerateOptions, 'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'seed'>;

/** The answer the network writes for the row (decoded, end tokens dropped, trimmed). */
export async function writeAnswer(net: Network, model: LoadedModel, row: Row, useChatTemplate: boolean, sampling: AnswerSampling, maxSeq: number): Promise<string> {
  const stops = stopIds(model, useChatTemplate);
  const ids = promptIds(model.tokenizer, row, useChatTemplate, Math.max(1, maxSeq - sampling.maxNewTokens));
  const out = await generate(net, ids, { ...sampling, stopIds: stops });
  return model.tokenizer.decode(out.filter((id) => !stops.includes(id)), { skipSpecial: true }).trim();
}
