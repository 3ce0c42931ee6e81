/**
 * Running exported decoders with onnxruntime-web (its WASM backend, one thread, in Node) the way
 * transformers.js feeds them, plus random LoRA adapters shared with the CPU reference.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import type { ModelConfig } from '../../src/model/config.ts';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import { planAdapterLayout, writeSlot } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { loraScale } from '../../src/lora/config.ts';
import type { ExportAdapter } from '../../src/onnx/export.ts';
import type { RefLora } from '../reference/model.ts';
import { rng } from '../helpers/numeric.ts';

ort.env.wasm.numThreads = 1;

export const STORIES_PATH = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url);

export function storiesFiles(): Record<string, Uint8Array> {
  return { 'stories260K.gguf': new Uint8Array(readFileSync(STORIES_PATH)) };
}

export function loadStories(): { model: LoadedModel; files: Record<string, Uint8Array> } {
  const files = storiesFiles();
  return { model: loadModelFiles(files, 'stories260K.gguf'), files };
}

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
}

const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), dims);

export interface StepResult {
  /** [B, S, V] row-major */
  logits: Float32Array;
  present: Record<string, ort.Tensor>;
}

/**
 * One run over B rows of S new tokens. `mask` covers past + new ([B, P+S], default all 1);
 * `positions` default to P … P+S−1; `past` is the previous step's `present` (default empty).
 */
export async function step(
  s: ort.InferenceSession, cfg: ModelConfig, ids: number[][],
  opts: { mask?: number[][]; positions?: number[][]; past?: Record<string, ort.Tensor> } = {},
): Promise<StepResult> {
  const B = ids.length;
  const S = ids[0].length;
  const P = opts.past ? opts.past['present.0.key'].dims[2] : 0;
  const mask = opts.mask ?? ids.map(() => new Array<number>(P + S).fill(1));
  const positions = opts.positions ?? ids.map(() => Array.from({ length: S }, (_, i) => P + i));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids.flat(), [B, S]),
    attention_mask: i64(mask.flat(), [B, P + S]),
    position_ids: i64(positions.flat(), [B, S]),
  };
  for (let l = 0; l < cfg.layers; l++) {
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kv}`] = opts.past?.[`present.${l}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [B, cfg.kvHeads, 0, cfg.headDim]);
    }
  }
  const out = await s.run(feeds);
  const present: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(out)) if (k.startsWith('present.')) present[k] = v;
  return { logits: out.logits.data as Float32Array, present };
}

/** A random adapter of rank R on the given targets, B nonzero, as the exporter and the reference take it. */
export function randomAdapter(cfg: ModelConfig, targets: string[], seed: number, R = 4, alpha = 8): { adapter: ExportAdapter; ref: Record<string, RefLora> } {
  const layout = planAdapterLayout(adapterModules(cfg, { targets, layers: null }), R);
  const params = new Float32Array(layout.totalFloats);
  const next = rng(seed);
  const ref: Record<string, RefLora> = {};
  const scale = loraScale({ rank: R, alpha, rslora: false });
  for (const e of layout.entries) {
    const A = new Float32Array(e.a.shape[0] * e.a.shape[1]);
    const B = new Float32Array(e.b.shape[0] * e.b.shape[1]);
    for (let i = 0; i < A.length; i++) A[i] = (next() * 2 - 1) * 0.3;
    for (let i = 0; i < B.length; i++) B[i] = (next() * 2 - 1) * 0.3;
    writeSlot(params, e.a, A);
    writeSlot(params, e.b, B);
    ref[e.name] = { A, B, rank: R, scale };
  }
  return { adapter: { cfg: { rank: R, alpha, rslora: false }, layout, params }, ref };
}

/** max |a − b| / max |b|: the error relative to the largest reference value. */
export function normRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Row t of a [S, V] (or [B·S, V]) block. */
export function row(x: ArrayLike<number>, t: number, V: number): number[] {
  return Array.from({ length: V }, (_, v) => x[t * V + v]);
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
