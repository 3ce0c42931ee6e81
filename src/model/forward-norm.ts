/** RMSNorm (llama family) or LayerNorm (GPT-2) of the residual stream, forward and backward. */
import type { Tensor } from '../gpu/tensor.ts';
import { layernormBackward, layernormForward } from '../kernels/layernorm.ts';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm.ts';
import type { StepContext } from './step-context.ts';

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
    rmsnormForward(rec, x, g, y, stats.rstd, config.normEps);
  }
}

/** dx (= or += with accumulate) from dy, with the forward's x and statistics. */
export function normBackward(ctx: StepContext, name: string, dy: Tensor, x: Tensor, stats: NormStats, dx: Tensor, accumulate: boolean): void {
  const { rec, weights, config } = ctx;
  const g = weights.get(`${name}.weight`);
  if (config.norm === 'layernorm') {
    layernormBackward(rec, dy, x, g, { mean: stats.mean!, rstd: stats.rstd }, dx, { accumulate });
  } else {
    rmsnormBackward(rec, dy, x, g, stats.rstd, dx, { accumulate });
  }
}
