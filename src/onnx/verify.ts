/**
 * Checking an exported decoder against tsugiki's engine, whatever runs the ONNX file (onnxruntime-web
 * in the page, onnxruntime-node, a test): the inputs of one prompt run in the graph's layout, and
 * the comparison of the logits of every prompt position.
 */
import type { ModelConfig } from '../model/config.ts';
import type { ExportDtype } from './hf-config.ts';

/**
 * Largest logit difference allowed, relative to the largest |logit| of the engine. f32 weights are
 * the engine's own values: measured 7e-7 on stories260K (float32 sums in another order; 2.6e-4 on
 * a WebGPU backend whose sin/cos are imprecise, which is why WASM decides). f16 rounds every weight
 * to 11 significant bits: measured 1.5e-3 on stories260K over 29 tokens, with or without an r=4
 * adapter of entries ±0.1, and up to 9.5e-3 with entries ±0.3 — past 5e-3, f16 is the wrong choice
 * for that model and the check says so. Leaving an adapter out moves the logits by ≈ 0.24.
 */
export const VERIFY_TOLERANCE: Record<ExportDtype, number> = { f32: 1e-4, f16: 5e-3 };

/** The prompt the check runs when there is no data to take one from. */
export const FALLBACK_PROMPT = 'Once upon a time';

/** One graph input as plain data: wrap it in the runtime's tensor type. */
export interface FeedSpec {
  name: string;
  type: 'int64' | 'float32';
  data: BigInt64Array | Float32Array;
  dims: number[];
}

/**
 * The inputs of one run over a whole prompt of T tokens with an empty cache, as transformers.js
 * feeds the first step: input_ids, attention_mask and position_ids [1, T] (int64), and every
 * past_key_values.N.key/value as float32 [1, KV, 0, D].
 */
export function promptFeeds(cfg: Pick<ModelConfig, 'layers' | 'kvHeads' | 'headDim'>, ids: readonly number[]): FeedSpec[] {
  const T = ids.length;
  if (T === 0) throw new Error('promptFeeds: the prompt has no tokens; give at least one token id');
  const i64 = (name: string, values: ArrayLike<number>): FeedSpec => ({ name, type: 'int64', data: BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims: [1, T] });
  const feeds = [i64('input_ids', ids), i64('attention_mask', new Array<number>(T).fill(1)), i64('position_ids', Array.from({ length: T }, (_, t) => t))];
  for (let l = 0; l < cfg.layers; l++) {
    for (const kv of ['key', 'value']) feeds.push({ name: `past_key_values.${l}.${kv}`, type: 'float32', data: new Float32Array(0), dims: [1, cfg.kvHeads, 0, cfg.headDim] });
  }
  return feeds;
}

export interface LogitComparison {
  /** T prompt positions compared, V logits each. */
  positions: number;
  vocab: number;
  /** max |onnx − engine| over all T·V logits. */
  maxAbs: number;
  /** maxAbs / scale: the difference relative to the largest engine logit. */
  maxRel: number;
  /** max |engine logit|. */
  scale: number;
  /** The prompt position (0-based) where the largest difference is. */
  worstPosition: number;
  tolerance: number;
  /** maxRel ≤ tolerance, and every logit finite on both sides. */
  ok: boolean;
}

/**
 * Compares the logits of T positions [T, V] of the exported model with the engine's. A NaN or
 * infinity on either side counts as an infinite difference (never as a match).
 */
export function compareLogits(onnx: ArrayLike<number>, engine: ArrayLike<number>, V: number, tolerance: number): LogitComparison {
  if (onnx.length !== engine.length) {
    throw new Error(`compareLogits: the exported model gave ${onnx.length} logits but the engine ${engine.length}; both must cover the same positions of a ${V}-token vocabulary`);
  }
  if (V < 1 || engine.length % V !== 0) throw new Error(`compareLogits: ${engine.length} logits are not whole rows of ${V}`);
  let maxAbs = 0;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < engine.length; i++) {
    const a = onnx[i];
    const b = engine[i];
    const d = Number.isFinite(a) && Number.isFinite(b) ? Math.abs(a - b) : Infinity;
    if (d > maxAbs) {
      maxAbs = d;
      worst = i;
    }
    if (Number.isFinite(b)) scale = Math.max(scale, Math.abs(b));
  }
  const maxRel = maxAbs === 0 ? 0 : maxAbs / scale;
  return { positions: engine.length / V, vocab: V, maxAbs, maxRel, scale, worstPosition: Math.floor(worst / V), tolerance, ok: maxRel <= tolerance };
}

/** A number as people read small differences: 3.1e-6, 0.012, 0. */
export function formatDifference(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return x < 1e-3 ? x.toExponential(1) : x.toPrecision(2);
}
