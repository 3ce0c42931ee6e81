/**
 * Per-adapter matmul tuning: a small search over the kernel choices of src/kernels/matmul.ts,
 * timed on the adapter itself, kept per adapter (Node: a JSON file, the studio: browser storage)
 * so it runs once. The knobs are the Gpu fields recordGemm reads:
 *   long   — the kernel of long contractions: tiled (workgroup memory, barriers) or direct;
 *   maxTx  — threads across the columns of a direct workgroup (tile 8·maxTx wide, 512/maxTx tall);
 *   vec4   — aligned direct products read four elements per load.
 * Each candidate runs the products a LoRA layer spends its time in (x·Wᵀ and dY·W at M = K = N
 * = TUNE_C) and the fastest wins: the direct kernel's six knob settings, then tiled long
 * contractions with the best of them. Every candidate's product must equal the first one's.
 */
import { adapterName, type Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { linearBackwardInput, linearForward } from './matmul.ts';

export interface MatmulTuning {
  long: 'tiled' | 'direct';
  maxTx: number;
  vec4: boolean;
}

export interface TuningResult {
  adapter: string;
  tuning: MatmulTuning;
  /** Every candidate with its measured throughput (GFLOP/s), fastest first. */
  candidates: { tuning: MatmulTuning; gflops: number }[];
}

/** Size of the tuning products; small enough for a CPU adapter to time in a few seconds. */
export const TUNE_C = 256;
const ROUNDS = 3;
const MIN_MS = 20;
const MAX_TX = [4, 8, 16] as const;

/** Where tuned results are kept, by adapter name. */
export interface TuningStore {
  read(adapter: string): MatmulTuning | null;
  write(adapter: string, tuning: MatmulTuning): void;
}

export function currentTuning(gpu: Gpu): MatmulTuning {
  return { long: gpu.longMatmul, maxTx: gpu.matmulMaxTx, vec4: gpu.matmulVec4 };
}

export function applyTuning(gpu: Gpu, t: MatmulTuning): void {
  gpu.longMatmul = t.long;
  gpu.matmulMaxTx = t.maxTx;
  gpu.matmulVec4 = t.vec4;
}

/** A stored tuning, checked field by field; null for anything that is not one. */
export function parseTuning(value: unknown): MatmulTuning | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (v.long !== 'tiled' && v.long !== 'direct') return null;
  if (!MAX_TX.includes(v.maxTx as (typeof MAX_TX)[number])) return null;
  if (typeof v.vec4 !== 'boolean') return null;
  return { long: v.long, maxTx: v.maxTx as number, vec4: v.vec4 };
}

export function describeTuning(t: MatmulTuning): string {
  return `${t.long === 'tiled' ? 'tiled long contractions' : 'direct kernel everywhere'}, direct tiles of ${512 / t.maxTx} rows × ${8 * t.maxTx} columns, ${t.vec4 ? 'vec4' : 'scalar'} loads`;
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * Times every candidate on this adapter and applies the fastest. The Gpu's own settings are put
 * back if anything fails. Results of all candidates must agree (they compute the same products).
 */
export async function tuneMatmul(gpu: Gpu, log: (line: string) => void = () => {}): Promise<TuningResult> {
  const C = TUNE_C;
  const up = (name: string, data: Float32Array, shape: number[]) => gpu.pool.upload(`tune.${name}`, shape, 'f32', data);
  const t: Record<string, Tensor> = {
    x: up('x', random(C * C, 1), [C, C]),
    w: up('w', random(C * C, 2), [C, C]),
    dy: up('dy', random(C * C, 3), [C, C]),
    y: up('y', new Float32Array(C * C), [C, C]),
    dx: up('dx', new Float32Array(C * C), [C, C]),
  };
  const kept = currentTuning(gpu);
  const flops = 2 * 2 * C * C * C;
  const record = (times: number) => {
    const rec = gpu.recorder('tune');
    for (let i = 0; i < times; i++) {
      linearForward(rec, { x: t.x, w: t.w, y: t.y });
      linearBackwardInput(rec, { dy: t.dy, w: t.w, dx: t.dx });
    }
    rec.submit();
    rec.destroy();
  };
  const time = async (c: MatmulTuning): Promise<number> => {
    applyTuning(gpu, c);
    let reps = 1;
    let best = Infinity;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      record(reps);
      await gpu.sync('matmul tuning');
      const ms = performance.now() - t0;
      best = Math.min(best, ms / reps);
      // The first round calibrates: later ones last at least MIN_MS.
      if (r === 0 && ms < MIN_MS) reps = Math.min(256, Math.ceil(MIN_MS / Math.max(best, 0.05)));
    }
    const gflops = flops / (best * 1e6);
    log(`  ${describeTuning(c)}: ${gflops.toFixed(2)} GFLOP/s`);
    return gflops;
  };
  let reference: Float32Array | null = null;
  const check = async (c: MatmulTuning) => {
    applyTuning(gpu, c);
    const rec = gpu.recorder('tune');
    rec.clear(t.y);
    rec.submit();
    rec.destroy();
    record(1);
    const out = await gpu.pool.readF32(t.y);
    if (!reference) reference = out;
    else if (!agrees(out, reference)) throw new Error(`matmul tuning: ${describeTuning(c)} computed a different product; this is a bug in tsugiki.`);
  };
  try {
    const results: TuningResult['candidates'] = [];
    // The direct kernel's knobs first; then tiled long contractions (which leave them to short products) against the best of them.
    for (const maxTx of MAX_TX) {
      for (const vec4 of [true, false]) {
        const c: MatmulTuning = { long: 'direct', maxTx, vec4 };
        await check(c);
        results.push({ tuning: c, gflops: await time(c) });
      }
    }
    results.sort((a, b) => b.gflops - a.gflops);
    const tiled: MatmulTuning = { ...results[0].tuning, long: 'tiled' };
    await check(tiled);
    results.push({ tuning: tiled, gflops: await time(tiled) });
    results.sort((a, b) => b.gflops - a.gflops);
    applyTuning(gpu, results[0].tuning);
    return { adapter: adapterName(gpu.adapter), tuning: results[0].tuning, candidates: results };
  } catch (e) {
    applyTuning(gpu, kept);
    throw e;
  } finally {
    for (const x of Object.values(t)) gpu.pool.releaseTensor(x);
  }
}

/** f32 sums of 256 products in different orders: within 1e-4 of the largest value. */
function agrees(a: Float32Array, b: Float32Array): boolean {
  let max = 0;
  for (const v of b) max = Math.max(max, Math.abs(v));
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-4 * max)) return false;
  return true;
}

/** Applies the stored tuning for this adapter, if any; returns it. */
export function useStoredTuning(gpu: Gpu, store: TuningStore): MatmulTuning | null {
  const t = store.read(adapterName(gpu.adapter));
  if (t) applyTuning(gpu, t);
  return t;
}
