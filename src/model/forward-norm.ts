/**
 * RMSNorm (llama family) or LayerNorm (GPT-2) of the residual stream, forward and backward, and
 * the per-head RMSNorm of q and k (Qwen3, Gemma 3: rows of D, one weight [D] for every head).
 * Gemma's norms multiply by (1 + w) (config.normPlusOne).
 */
import type { Tensor } from '../gpu/tensor.ts';
import { layernormBackward, layernormForward } from '../kernels/layernorm.ts';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm.ts';
import { reshape, type StepContext } from './step-context.ts';

/** Saved statistics: rstd [N], and mean [N] for LayerNorm. */
export interface NormStats {
  rstd: Tensor;
  mean: Tensor | null;
}

/** y = norm(x) with the weights `name`.weight (and .bias for LayerNorm). */
export function normForward(ctx: StepContext, name: string, x: Tensor, y: Tensor, stats: NormStats): void {
  const { rec, weights, config } = ctx;
  const g = weights.get(`${name}.weight`);
  if (config.norm === 'layernorm') {
    layernormForward(rec, x, g, weights.get(`${name}.bias`), y, { mean: stats.mean!, rstd: stats.rstd }, config.normEps);
  } else {
    rmsnormForward(rec, x, g, y, stats.rstd, config.normEps, { plusOne: config.normPlusOne });
  }
}

/** dx (= or += with accumulate) from dy, with the forward's x and statistics. */
export function normBackward(ctx: StepContext, name: string, dy: Tensor, x: Tensor, stats: NormStats, dx: Tensor, accumulate: boolean): void {
  const { rec, weights, config } = ctx;
  const g = weights.get(`${name}.weight`);
  if (config.norm === 'layernorm') {
    layernormBackward(rec, dy, x, g, { mean: stats.mean!, rstd: stats.rstd }, dx, { accumulate });
  } else {
    rmsnormBackward(rec, dy, x, g, stats.rstd, dx, { accumulate, plusOne: config.normPlusOne });
  }
}

/** Rows of one head: [N, heads·D] as [N·heads, D] (and rstd [N, heads] as [N·heads]). */
function headRows(ctx: StepContext, t: Tensor, heads: number): Tensor {
  const N = ctx.B * ctx.T;
  return reshape(t, [N * heads, ctx.config.headDim]);
}

/** y [N, heads·D] = RMSNorm of each head's row of x with `name`.weight [D]; rstd [N·heads] saved. */
export function headNormForward(ctx: StepContext, name: string, x: Tensor, y: Tensor, rstd: Tensor, heads: number): void {
  const { rec, weights, config } = ctx;
  rmsnormForward(rec, headRows(ctx, x, heads), weights.get(`${name}.weight`), headRows(ctx, y, heads), reshape(rstd, [ctx.B * ctx.T * heads]), config.normEps, { plusOne: config.normPlusOne });
}

/** dx (=) from dy of the per-head norm, with the forward's x and rstd. */
export function headNormBackward(ctx: StepContext, name: string, dy: Tensor, x: Tensor, rstd: Tensor, dx: Tensor, heads: number): void {
  const { rec, weights, config } = ctx;
  rmsnormBackward(rec, headRows(ctx, dy, heads), headRows(ctx, x, heads), weights.get(`${name}.weight`), reshape(rstd, [ctx.B * ctx.T * heads]), headRows(ctx, dx, heads), { plusOne: config.normPlusOne });
}
