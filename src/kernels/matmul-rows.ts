import type { Recorder } from '../gpu/recorder.ts';
import { uniforms } from '../gpu/recorder.ts';
import { isQuantDType, type Tensor } from '../gpu/tensor.ts';
import { WDTYPE } from './weights.ts';

/**
 * x·Wᵀ with at most this many rows runs on shaders/matmul_rows.wgsl (token-by-token generation),
 * where a workgroup streams a few weight rows once for all of x's rows.
 */
export const ROWS_MAX_M = 8;

/**
 * The most rows the rows kernel takes on this adapter: ROWS_MAX_M on GPUs; 1 on CPU adapters
 * ('direct' long products), where the 8×8 tiles of matmul_direct.wgsl reuse every load 8 times
 * and the rows kernel is faster only for a single row (see bench/decode.ts).
 */
export function rowsMaxM(long: 'tiled' | 'direct'): number {
  return long === 'direct' ? 1 : ROWS_MAX_M;
}

/** Threads of the kernel's workgroup (shaders/matmul_rows.wgsl); a group of TK of them owns a column. */
const WG = 64;
const SHADERS = ['common', 'weights', 'weights_quant', 'weights_chunk', 'matmul_rows'] as const;

/** One product y [M, N] (+)= alpha · x [M, K] · W [N, K]ᵀ + bias, M ≤ ROWS_MAX_M (checked by the caller). */
export interface RowsProduct {
  label: string;
  /** x [M, K] rows lda apart, f32. */
  x: Tensor;
  /** W [N, K], any weight dtype (a whole weight or one row window of it). */
  w: Tensor;
  /** y [M, ·] rows ldc apart, f32; columns cOffset.. are written. */
  y: Tensor;
  /** bias [cOffset + N…], f32. */
  bias?: Tensor;
  m: number;
  n: number;
  k: number;
  alpha: number;
  accumulate: boolean;
  lda: number;
  ldc: number;
  cOffset: number;
}

/**
 * Threads along K per column: up to the whole workgroup, as long as each gets at least 16 float
 * elements or one 32-element quantized chunk; 1 on CPU adapters ('direct' long products), where a
 * barrier switches every invocation.
 */
export function rowsThreadsK(k: number, quantized: boolean, long: 'tiled' | 'direct'): number {
  if (long === 'direct') return 1;
  const step = quantized ? 32 : 16;
  let tk = 1;
  while (tk < WG && step * tk < k) tk *= 2;
  return tk;
}

/** Records the rows kernel for one product (one dispatch). */
export function recordRows(rec: Recorder, g: RowsProduct): void {
  const tk = rowsThreadsK(g.k, isQuantDType(g.w.dtype), rec.gpu.longMatmul);
  const groups = Math.ceil(g.n / (WG / tk));
  rec.dispatch({
    label: g.label,
    pipeline: {
      shaders: SHADERS,
      entry: 'matmul_rows',
      constants: { ROWS: g.m === 1 ? 1 : 8, TK: tk, WDTYPE: WDTYPE[g.w.dtype]!, ACCUMULATE: g.accumulate ? 1 : 0, HAS_BIAS: g.bias ? 1 : 0 },
    },
    uniforms: uniforms(g.m, g.n, g.k, groups, g.lda, g.ldc, g.cOffset, { f: g.alpha }),
    // Without a bias, x is bound in its place (read-only, never read) so the layout stays the same.
    bindings: [g.x, g.w, g.bias ?? g.x, g.y],
    workgroups: [groups],
  });
}
