import type { Recorder } from '../gpu/recorder.ts';
import { describe, expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';
import { rowLayout, ROW_WORKGROUP, type RowLayout } from './rows.ts';
import { floatWdtype } from './weights.ts';

/** shaders/rmsnorm.wgsl's uniforms: rows N, channels C, eps (the forward's only). */
export const RMSNORM_PARAMS = uniformBlock('rmsnorm', 'Params', { n: 'u32', c: 'u32', eps: 'f32' });

export interface NormBackwardOptions {
  /** Add dx into the existing buffer (+=, the residual stream's gradient) instead of writing it (=). */
  accumulate?: boolean;
  /** RMSNorm only: the gain is (1 + g), as Gemma's checkpoints store it. */
  plusOne?: boolean;
}

/**
 * y = x / sqrt(mean(x²) + eps) · g over the last dimension. x, y: f32 [N, C] (or [B, T, C]);
 * g: [C] in f32/f16/bf16; rstd: f32 [N] (x's shape without C), saved for the backward.
 * With plusOne the gain is (1 + g) (Gemma). Per-head norms (Qwen3's and Gemma's q_norm/k_norm)
 * pass q as rows of D: x [N·H, D], g [D].
 */
export function rmsnormForward(rec: Recorder, x: Tensor, g: Tensor, y: Tensor, rstd: Tensor, eps: number, options: { plusOne?: boolean } = {}): void {
  const { n, c, wdtype } = checkRows('rmsnorm', x, g, rstd);
  expectShape('rmsnorm', 'y', y, x.shape, ['f32']);
  if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`rmsnorm: eps is ${eps} but a finite number ≥ 0 is needed (rms_norm_eps).`);
  const rows = rmsnormRows(rec, n, c);
  rec.dispatch({
    label: `rmsnorm ${y.label}`,
    pipeline: {
      shaders: ['common', 'weights', rows.helper, 'rmsnorm'],
      entry: 'rmsnorm_forward',
      constants: { ...rows.constants, WDTYPE: wdtype, PLUS_ONE: options.plusOne ? 1 : 0 },
      subgroups: rows.subgroups,
    },
    uniforms: RMSNORM_PARAMS.pack({ n, c, eps }),
    bindings: [x, g, y, rstd],
    workgroups: [rows.workgroups],
  });
}

/**
 * dx from dy, with the forward's x, g and rstd: dx = r·g⊙dy − x·r³/C·Σ(g⊙dy⊙x) per row.
 * Written with = unless `accumulate`, then added (+=). Shapes as in the forward.
 */
export function rmsnormBackward(rec: Recorder, dy: Tensor, x: Tensor, g: Tensor, rstd: Tensor, dx: Tensor, options: NormBackwardOptions = {}): void {
  const { n, c, wdtype } = checkRows('rmsnorm backward', x, g, rstd);
  expectShape('rmsnorm backward', 'dy', dy, x.shape, ['f32']);
  expectShape('rmsnorm backward', 'dx', dx, x.shape, ['f32']);
  const rows = rmsnormRows(rec, n, c);
  rec.dispatch({
    label: `rmsnorm backward ${dx.label}`,
    pipeline: {
      shaders: ['common', 'weights', rows.helper, 'rmsnorm'],
      entry: 'rmsnorm_backward',
      constants: { ...rows.constants, WDTYPE: wdtype, ACCUMULATE: options.accumulate ? 1 : 0, PLUS_ONE: options.plusOne ? 1 : 0 },
      subgroups: rows.subgroups,
    },
    uniforms: RMSNORM_PARAMS.pack({ n, c, eps: 0 }), // the backward reads rstd, not eps
    bindings: [dy, x, g, rstd, dx],
    workgroups: [rows.workgroups],
  });
}

/**
 * Threads per row for a row of C values: about 32 values per thread, a power of two from 1 to 256.
 * Narrow rows (small models, small vocabularies) then share a workgroup instead of each paying for
 * a whole workgroup's barriers; wide rows still get all 256 threads.
 */
export function threadsPerRow(c: number): number {
  let t = 1;
  while (t < 256 && t * 32 < c) t *= 2;
  return t;
}

/** Workgroups of 256 threads needed for n rows at `tpr` threads each. */
export function rowGroups(n: number, c: number, tpr = threadsPerRow(c)): number {
  return Math.ceil(n / (ROW_WORKGROUP / tpr));
}

/**
 * RMSNorm's single sum stays accurate summed by one thread up to C = 256: no barrier at all there.
 * With subgroups, rowLayout puts the rows on subgroups instead, except such a thread per row on CPU
 * adapters (Gpu.threadRowMax), where the subgroups measured no faster.
 */
function rmsnormRows(rec: Recorder, n: number, c: number): RowLayout {
  return rowLayout(rec.gpu, n, c, c <= 256 ? 1 : threadsPerRow(c));
}

function checkRows(op: string, x: Tensor, g: Tensor, rstd: Tensor): { n: number; c: number; wdtype: number } {
  const c = x.shape[x.shape.length - 1] ?? 0;
  if (c < 1 || x.dtype !== 'f32') throw new Error(`${op}: x is ${describe(x)} but f32 [N, C] with C ≥ 1 is needed.`);
  const wdtype = floatWdtype(g.dtype);
  if (g.shape.length !== 1 || g.shape[0] !== c || wdtype === undefined) {
    throw new Error(`${op}: the gain is ${describe(g)} but [${c}] in f32, f16 or bf16 is needed to match x's last dimension.`);
  }
  expectShape(op, 'rstd', rstd, x.shape.slice(0, -1), ['f32']);
  return { n: numel(x.shape) / c, c, wdtype };
}
