import type { Row } from '../data/dataset.ts';
import { encodePrompt, formatExample } from '../data/prompt.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { loraScale } from '../lora/config.ts';
import { generate } from '../model/generate.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { Network } from '../model/network.ts';
import type { CompareRowResult, Sampling } from './protocol.ts';
import { getGpu, requireAdapter, requireModel, type HeldAdapter } from './session.ts';

/** The inference network with the held adapter, kept between compare calls (the slider re-asks often). */
let inference: { net: Network; adapter: HeldAdapter; maxSeq: number } | null = null;

/** Frees the inference network (a new model, a new adapter or a training run needs the memory). */
export function dropInference(): void {
  inference?.net.destroy();
  inference = null;
}

async function inferenceNet(model: LoadedModel, adapter: HeldAdapter, maxSeq: number): Promise<Network> {
  if (inference && inference.adapter === adapter && inference.maxSeq >= maxSeq) return inference.net;
  dropInference();
  const net = await Network.create(await getGpu(), model, {
    maxBatch: 1,
    maxSeq,
    training: false,
    adapter: { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 },
  });
  net.setAdapterParams(adapter.params);
  inference = { net, adapter, maxSeq };
  return net;
}

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

function promptIds(tokenizer: Tokenizer, row: Row, useChatTemplate: boolean, room: number): number[] {
  const ids = encodePrompt(tokenizer, formatExample(tokenizer, { ...row, output: '' }, useChatTemplate), useChatTemplate);
  if (ids.length <= room) return ids;
  // keep BOS and the end of the prompt (where the question and the answer marker are)
  const bos = tokenizer.bosId;
  const head = bos !== null && ids[0] === bos ? [bos] : [];
  return [...head, ...ids.slice(ids.length - (room - head.length))];
}

/**
 * Answers of the base model (adapter strength 0) and the tuned one (strength `strength`) for each
 * row, with the same seed and sampling for both. Generated text stops at an end token.
 */
export async function compare(rows: Row[], useChatTemplate: boolean, sampling: Sampling, strength: number, progress: (done: number) => void): Promise<CompareRowResult[]> {
  const model = requireModel('compare outputs');
  const adapter = requireAdapter('compare outputs');
  const maxSeq = Math.min(model.config.maxPositions, 512);
  const room = Math.max(1, maxSeq - sampling.maxNewTokens);
  const net = await inferenceNet(model, adapter, maxSeq);
  const stops = stopIds(model, useChatTemplate);
  const answer = async (ids: number[], s: number) => {
    net.adapterStrength = s;
    const out = await generate(net, ids, { ...sampling, stopIds: stops });
    return model.tokenizer.decode(out.filter((id) => !stops.includes(id)), { skipSpecial: true }).trim();
  };
  const results: CompareRowResult[] = [];
  for (const row of rows) {
    const ids = promptIds(model.tokenizer, row, useChatTemplate, room);
    results.push({ base: await answer(ids, 0), tuned: await answer(ids, strength) });
    progress(results.length);
  }
  net.adapterStrength = 1;
  return results;
}

