import type { Recorder } from '../gpu/recorder.ts';
import { describe, expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';
import { threadsPerRow, type NormBackwardOptions } from './rmsnorm.ts';
import { rowLayout } from './rows.ts';
import { floatWdtype } from './weights.ts';

/** shaders/layernorm.wgsl's uniforms: rows N, channels C, eps (the forward's only). */
export const LAYERNORM_PARAMS = uniformBlock('layernorm', 'Params', { n: 'u32', c: 'u32', eps: 'f32' });

/** Statistics the forward saves for the backward: f32 [N] each (x's shape without C). */
export interface LayerNormStats {
  mean: Tensor;
  rstd: Tensor;
}

/**
 * y = (x − mean) / sqrt(var + eps) · g + b over the last dimension. x, y: f32 [N, C] (or [B, T, C]);
 * g, b: [C] in one of f32/f16/bf16; saves mean and rstd.
 */
export function layernormForward(rec: Recorder, x: Tensor, g: Tensor, b: Tensor, y: Tensor, stats: LayerNormStats, eps: number): void {
  const { n, c, wdtype } = checkRows('layernorm', x, g, stats);
  if (b.dtype !== g.dtype) throw new Error(`layernorm: the bias is ${describe(b)} but it must be ${g.dtype} like the gain ${describe(g)}.`);
  expectShape('layernorm', 'bias', b, [c]);
  expectShape('layernorm', 'y', y, x.shape, ['f32']);
  if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`layernorm: eps is ${eps} but a finite number ≥ 0 is needed (layer_norm_epsilon).`);
  const rows = rowLayout(rec.gpu, n, c, threadsPerRow(c));
  rec.dispatch({
    label: `layernorm ${y.label}`,
    pipeline: { shaders: ['common', 'weights', rows.helper, 'layernorm'], entry: 'layernorm_forward', constants: { ...rows.constants, WDTYPE: wdtype }, subgroups: rows.subgroups },
    uniforms: LAYERNORM_PARAMS.pack({ n, c, eps }),
    bindings: [x, g, b, y, stats.mean, stats.rstd],
    workgroups: [rows.workgroups],
  });
}

/**
 * dx from dy, with the forward's x, g and statistics: with x̂ = (x − mean)·r and d = g ⊙ dy,
 * dx = r·(d − mean(d) − x̂·mean(d ⊙ x̂)) per row. Written with = unless `accumulate`, then added (+=).
 */
export function layernormBackward(
  rec: Recorder,
  dy: Tensor,
  x: Tensor,
  g: Tensor,
  stats: LayerNormStats,
  dx: Tensor,
  options: NormBackwardOptions = {},
): void {
  const { n, c, wdtype } = checkRows('layernorm backward', x, g, stats);
  expectShape('layernorm backward', 'dy', dy, x.shape, ['f32']);
  expectShape('layernorm backward', 'dx', dx, x.shape, ['f32']);
  const rows = rowLayout(rec.gpu, n, c, threadsPerRow(c));
  rec.dispatch({
    label: `layernorm backward ${dx.label}`,
    pipeline: {
      shaders: ['common', 'weights', rows.helper, 'layernorm'],
      entry: 'layernorm_backward',
      constants: { ...rows.constants, WDTYPE: wdtype, ACCUMULATE: options.accumulate ? 1 : 0 },
      subgroups: rows.subgroups,
    },
    uniforms: LAYERNORM_PARAMS.pack({ n, c, eps: 0 }), // the backward reads mean and rstd, not eps
    bindings: [dy, x, g, stats.mean, stats.rstd, dx],
    workgroups: [rows.workgroups],
  });
}

function checkRows(op: string, x: Tensor, g: Tensor, stats: LayerNormStats): { n: number; c: number; wdtype: number } {
  const c = x.shape[x.shape.length - 1] ?? 0;
  if (c < 1 || x.dtype !== 'f32') throw new Error(`${op}: x is ${describe(x)} but f32 [N, C] with C ≥ 1 is needed.`);
  const wdtype = floatWdtype(g.dtype);
  if (g.shape.length !== 1 || g.shape[0] !== c || wdtype === undefined) {
    throw new Error(`${op}: the gain is ${describe(g)} but [${c}] in f32, f16 or bf16 is needed to match x's last dimension.`);
  }
  expectShape(op, 'mean', stats.mean, x.shape.slice(0, -1), ['f32']);
  expectShape(op, 'rstd', stats.rstd, x.shape.slice(0, -1), ['f32']);
  return { n: numel(x.shape) / c, c, wdtype };
}
