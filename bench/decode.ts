/**
 * The matmul of token-by-token generation: y [1, N] = x [1, K] · Wᵀ with a quantized W [N, K],
 * on the rows kernel (shaders/matmul_rows.wgsl) and on the general kernels it replaced, as GB/s
 * of weight bytes read and as a fraction of the read bandwidth measured in the same run. Like a
 * model's layers, each run reads the next of enough copies of W to fill `footprint` bytes, so
 * caches hold no more of it than they would of a real model's weights.
 */
import type { Gpu } from '../src/gpu/device.ts';
import type { Tensor } from '../src/gpu/tensor.ts';
import { quantizeQ4_K, quantizeQ8_0 } from '../src/io/ggml-quantize.ts';
import { linearForward } from '../src/kernels/matmul.ts';
import { uniform } from './kernels.ts';
import { timeInTurn, type TimingOptions } from './timing.ts';

export const DECODE_TYPES = { q4_k: quantizeQ4_K, q8_0: quantizeQ8_0 } as const;
export type DecodeType = keyof typeof DECODE_TYPES;

export interface DecodeCase {
  name: string;
  dtype: DecodeType;
  shape: { M: 1; K: number; N: number };
  /** Bytes of one W (the ggml blocks) and how many copies the runs cycle through. */
  weight_bytes: number;
  copies: number;
  /** Weight GB/s (1e9 bytes/s) on the rows kernel and on the general kernels. */
  gbs: number;
  general_gbs: number;
  /** gbs / general_gbs, and each against the measured read bandwidth. */
  vs_general: number;
  vs_read_peak: number;
  general_vs_read_peak: number;
  /** Largest |rows − general| / max |general| of y: the two kernels agree when small. */
  max_rel_diff: number;
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

/** Times one M = 1 product on both kernels; `readPeak` is the measured read bandwidth in GB/s. */
export async function runDecodeCase(gpu: Gpu, dtype: DecodeType, c: number, footprint: number, readPeak: number, timing: TimingOptions): Promise<DecodeCase> {
  const [n, k] = [c, c];
  const raw = DECODE_TYPES[dtype](uniform(n * k, 7, 1 / Math.sqrt(k)));
  const copies = Math.max(1, Math.ceil(footprint / raw.length));
  const weights: Tensor[] = Array.from({ length: copies }, (_, i) => gpu.pool.upload(`bench.decode.w${i}`, [n, k], dtype, raw));
  const x = gpu.pool.upload('bench.decode.x', [1, k], 'f32', uniform(k, 8, 1));
  const y = gpu.pool.tensor('bench.decode.y', [1, n]);
  const rec = gpu.recorder('bench.decode');
  let next = 0;
  const step = () => {
    linearForward(rec, { x, w: weights[next], y });
    next = (next + 1) % copies;
    rec.submit();
  };
  const drain = () => gpu.sync('decode benchmark');
  const kept = gpu.rowsMatmul;
  try {
    // Both kernels timed in turn (timeInTurn), each its fastest round.
    const on = (rows: boolean) => ({ step: () => ((gpu.rowsMatmul = rows), step()), drain });
    const output = async (rows: boolean) => {
      on(rows).step();
      await drain();
      return gpu.pool.readF32(y);
    };
    const generalOut = await output(false);
    const rowsOut = await output(true);
    const [generalMs, rowsMs] = await timeInTurn([on(false), on(true)], timing);
    const general = { out: generalOut, gbs: raw.length / (generalMs * 1e6) };
    const rows = { out: rowsOut, gbs: raw.length / (rowsMs * 1e6) };
    return {
      name: `decode x·Wᵀ ${dtype}`, dtype, shape: { M: 1, K: k, N: n }, weight_bytes: raw.length, copies,
      gbs: rows.gbs, general_gbs: general.gbs, vs_general: rows.gbs / general.gbs,
      vs_read_peak: rows.gbs / readPeak, general_vs_read_peak: general.gbs / readPeak,
      max_rel_diff: relDiff(rows.out, general.out),
    };
  } finally {
    gpu.rowsMatmul = kept;
    rec.destroy();
    for (const t of [...weights, x, y]) gpu.pool.releaseTensor(t);
  }
}
