/**
 * Text generation with a KV cache: per layer k and v [1, Smax, KV, D] (Smax = prompt + new
 * tokens), the prompt prefilled in one pass, then one token at a time attending over the cache
 * (`past`). Greedy at temperature 0, else temperature / top-k / top-p sampling from a seeded PRNG.
 */
import { mulberry32 } from '../data/rng.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Network } from './network.ts';
import { checkSampling, sampleToken } from './sampling.ts';
import type { KvCache } from './step-context.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  /** Stop after one of these ids (it is returned). Default: the model's EOS ids. */
  stopIds?: number[];
  /** Told each new id as soon as it is chosen. */
  onToken?: (id: number) => void;
  /** Told the logits [V] each new id is chosen from. */
  onLogits?: (logits: Float32Array) => void;
}

/** The model's end-of-sequence ids from its config. */
export function eosIds(net: Network): number[] {
  const e = net.config.eosId;
  return e === null ? [] : Array.isArray(e) ? e : [e];
}

/** The new token ids (stop id included when one ends the text). */
export async function generate(net: Network, promptIds: number[], o: GenerateOptions): Promise<number[]> {
  const { config, gpu } = net;
  if (promptIds.length === 0) throw new Error('generate: the prompt is empty; give at least one token (the BOS token for free text).');
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0)) throw new Error(`generate: max new tokens ${o.maxNewTokens} must be a whole number ≥ 0.`);
  checkSampling(o);
  const bad = promptIds.find((id) => !(Number.isInteger(id) && id >= 0 && id < config.vocabSize));
  if (bad !== undefined) throw new Error(`generate: prompt token ${bad} is outside the vocabulary (0…${config.vocabSize - 1}).`);
  const S = promptIds.length + o.maxNewTokens;
  if (config.learnedPositions && S > config.maxPositions) {
    throw new Error(`generate: ${promptIds.length} prompt + ${o.maxNewTokens} new tokens exceed the model's ${config.maxPositions} positions; ask for fewer new tokens.`);
  }
  const stop = new Set(o.stopIds ?? eosIds(net));
  const { kvHeads: KV, headDim: D, layers: L } = config;
  const owned: Tensor[] = [];
  const tensor = (label: string, shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
    const t = gpu.pool.tensor(label, shape, dtype);
    owned.push(t);
    return t;
  };
  const cache: KvCache = {
    k: Array.from({ length: L }, (_, l) => tensor(`kvcache.layer${l}.k`, [1, S, KV, D])),
    v: Array.from({ length: L }, (_, l) => tensor(`kvcache.layer${l}.v`, [1, S, KV, D])),
    S, past: 0,
    keyMask: tensor('kvcache.keyMask', [1, S], 'u32'),
  };
  gpu.pool.write(cache.keyMask, new Uint32Array(S).fill(1));
  const acts = net.newActivations(1, promptIds.length, false);
  const rng = mulberry32(o.seed);
  const out: number[] = [];
  const rec = gpu.recorder('generate');
  try {
    let tokens = promptIds;
    while (out.length < o.maxNewTokens) {
      const logits = net.recordTokens(rec, acts, tokens, cache, true);
      rec.submit();
      await gpu.sync('generation');
      net.releaseStaging();
      const values = await gpu.pool.readF32(logits);
      o.onLogits?.(values);
      const next = sampleToken(values, o, rng);
      cache.past += tokens.length;
      out.push(next);
      o.onToken?.(next);
      if (stop.has(next)) break;
      tokens = [next];
    }
  } finally {
    rec.destroy();
    acts.destroy();
    for (const t of owned) gpu.pool.releaseTensor(t);
  }
  return out;
}
