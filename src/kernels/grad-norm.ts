import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';

/** shaders/grad_norm.wgsl's uniforms: gradients, partial sums, whether to clip and to what norm. */
export const GRAD_NORM_PARAMS = uniformBlock('grad_norm', 'Params', { n: 'u32', parts: 'u32', clip_on: 'u32', max_norm: 'f32' });
/** shaders/grad_norm_flag.wgsl's uniforms: the norm above which the flag is raised. */
export const GRAD_NORM_FLAG_PARAMS = uniformBlock('grad_norm_flag', 'Params', { limit: 'f32' });
/** shaders/step_guard.wgsl's uniforms: whether a non-finite loss also halts the step. */
export const STEP_GUARD_PARAMS = uniformBlock('step_guard', 'Params', { check_loss: 'u32' });

/**
 * Global gradient L2 norm and the clip coefficient of torch.nn.utils.clip_grad_norm_, in two
 * passes with no CPU readback: norm [1] = √Σ g², clip [1] = min(1, maxNorm / (norm + 1e-6)).
 * A NaN or Inf gradient makes the norm NaN or Inf and the clip coefficient NaN; the optimizers then
 * skip the step, and `gradNormFlag` raises a flag the trainer reads back with the loss.
 */

const WG = 256;
const MAX_PARTS = 1024;

/** Number of partial sums (the length of the `partials` scratch tensor) for n gradients. */
export function gradNormPartials(n: number): number {
  return Math.max(1, Math.min(MAX_PARTS, Math.ceil(n / WG)));
}

/**
 * Writes norm [1] and clip [1] from the flat gradients (any shape, f32). partials is f32
 * [gradNormPartials(n)] scratch. maxNorm ≤ 0, Infinity or NaN turn clipping off (clip = 1).
 */
export function gradNorm(rec: Recorder, grad: Tensor, partials: Tensor, norm: Tensor, clip: Tensor, maxNorm: number): void {
  const op = 'gradient norm';
  if (grad.dtype !== 'f32') throw new Error(`${op}: gradients ${grad.label} are ${grad.dtype}; f32 is needed.`);
  const n = numel(grad.shape);
  const parts = gradNormPartials(n);
  expectShape(op, 'partials', partials, [parts], ['f32']);
  expectShape(op, 'norm', norm, [1], ['f32']);
  expectShape(op, 'clip', clip, [1], ['f32']);
  const clipOn = Number.isFinite(maxNorm) && maxNorm > 0;
  const u = GRAD_NORM_PARAMS.pack({ n, parts, clip_on: clipOn ? 1 : 0, max_norm: clipOn ? maxNorm : 0 });
  // Workgroup sums with subgroups where the device has them (grad_norm_reduce_subgroups.wgsl).
  const sg = rec.gpu.subgroups;
  const pipeline = (entry: string) => ({ shaders: ['grad_norm_common', sg ? 'grad_norm_reduce_subgroups' : 'grad_norm_reduce', 'grad_norm'], entry, subgroups: sg });
  rec.dispatch({ label: `grad norm partials ${grad.label}`, pipeline: pipeline('grad_norm_partial'), uniforms: u, bindings: [grad, partials], workgroups: [parts] });
  rec.dispatch({ label: `grad norm ${norm.label}`, pipeline: pipeline('grad_norm_finish'), uniforms: u, bindings: [partials, norm, clip], workgroups: [1] });
}

/** flag u32 [1] = 1 when norm [1] is NaN or Inf, or larger than `limit`; else 0. */
export function gradNormFlag(rec: Recorder, norm: Tensor, flag: Tensor, limit = 3.4e38): void {
  const op = 'gradient norm flag';
  expectShape(op, 'norm', norm, [1], ['f32']);
  expectShape(op, 'flag', flag, [1], ['u32']);
  if (Number.isNaN(limit)) throw new Error(`${op}: limit is NaN; pass a number (Infinity for "only non-finite").`);
  rec.dispatch({
    label: `grad norm flag ${flag.label}`,
    pipeline: { shaders: ['grad_norm_common', 'grad_norm_flag'], entry: 'grad_norm_flag' },
    uniforms: GRAD_NORM_FLAG_PARAMS.pack({ limit: Math.min(limit, 3.4e38) }),
    bindings: [norm, flag],
    workgroups: [1],
  });
}

/**
 * The step guard (shaders/step_guard.wgsl): when `halted` u32 [1] is set, or loss f32 [1] (with
 * `checkLoss`) or norm f32 [1] is NaN/Inf, sets `halted` and makes clip f32 [1] NaN, so the
 * optimizer update that follows is a no-op. The caller clears `halted` to resume updates.
 */
export function stepGuard(rec: Recorder, t: { loss: Tensor; norm: Tensor; clip: Tensor; halted: Tensor }, checkLoss = true): void {
  const op = 'step guard';
  expectShape(op, 'loss', t.loss, [1], ['f32']);
  expectShape(op, 'norm', t.norm, [1], ['f32']);
  expectShape(op, 'clip', t.clip, [1], ['f32']);
  expectShape(op, 'halted', t.halted, [1], ['u32']);
  rec.dispatch({
    label: `step guard ${t.halted.label}`,
    pipeline: { shaders: ['grad_norm_common', 'step_guard'], entry: 'step_guard' },
    uniforms: STEP_GUARD_PARAMS.pack({ check_loss: checkLoss ? 1 : 0 }),
    bindings: [t.loss, t.norm, t.clip, t.halted],
    workgroups: [1],
  });
}
