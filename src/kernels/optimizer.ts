import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';

/**
 * Optimizer steps over a flat parameter buffer (all LoRA matrices in one f32 buffer; gradients and
 * the AdamW moments in same-shaped buffers). One dispatch per step, no CPU readback: an optional
 * `clip` tensor f32 [1], written by `gradNorm`, scales the gradients (g · clip) and makes the step a
 * no-op when it is NaN (non-finite gradients).
 */

const WG = 256;

/** shaders/adamw.wgsl's uniforms: elements and the step's constants (adamwConstants). */
export const ADAMW_PARAMS = uniformBlock('adamw', 'Params', {
  n: 'u32', decay: 'f32', w1: 'f32', beta2: 'f32', w2: 'f32', eps: 'f32', step_size: 'f32', bc2_sqrt: 'f32',
});
/** shaders/sgd.wgsl's uniforms: elements, learning rate, weight decay. */
export const SGD_PARAMS = uniformBlock('sgd', 'Params', { n: 'u32', lr: 'f32', wd: 'f32' });

export interface AdamWHyper {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** 1 for the first step (torch's state['step'] after its increment). */
  step: number;
}

export interface AdamWState {
  param: Tensor;
  grad: Tensor;
  /** First moment (torch's exp_avg), zeros before the first step. */
  m: Tensor;
  /** Second moment (torch's exp_avg_sq), zeros before the first step. */
  v: Tensor;
}

function checkFlat(op: string, param: Tensor, others: Record<string, Tensor>, clip: Tensor | undefined): number {
  if (param.dtype !== 'f32') throw new Error(`${op}: param ${param.label} is ${param.dtype}; parameters are trained in f32.`);
  for (const [name, t] of Object.entries(others)) expectShape(op, name, t, param.shape, ['f32']);
  if (clip) expectShape(op, 'clip', clip, [1], ['f32']);
  return numel(param.shape);
}

function checkNumber(op: string, name: string, x: number, ok: boolean, want: string): void {
  if (!ok) throw new Error(`${op}: ${name} = ${x} must be ${want}.`);
}

/**
 * The per-step uniforms of torch.optim.AdamW, computed in float64 as torch computes them in Python:
 * decay 1 − lr·wd, step size lr / (1 − β1^t), √(1 − β2^t).
 */
export function adamwConstants(h: AdamWHyper) {
  const beta1 = h.beta1 ?? 0.9;
  const beta2 = h.beta2 ?? 0.999;
  const wd = h.weightDecay ?? 0;
  return {
    decay: 1 - h.lr * wd,
    w1: 1 - beta1,
    beta2,
    w2: 1 - beta2,
    eps: h.eps ?? 1e-8,
    stepSize: h.lr / (1 - beta1 ** h.step),
    bc2Sqrt: Math.sqrt(1 - beta2 ** h.step),
  };
}

/** One AdamW step (torch.optim.AdamW semantics, decoupled weight decay), in place on param, m, v. */
export function adamwStep(rec: Recorder, s: AdamWState, h: AdamWHyper, clip?: Tensor): void {
  const op = 'AdamW step';
  const n = checkFlat(op, s.param, { grad: s.grad, m: s.m, v: s.v }, clip);
  checkNumber(op, 'lr', h.lr, Number.isFinite(h.lr) && h.lr >= 0, 'a finite number ≥ 0');
  checkNumber(op, 'step', h.step, Number.isInteger(h.step) && h.step >= 1, 'an integer ≥ 1 (the first step is 1)');
  for (const [name, b] of [['beta1', h.beta1 ?? 0.9], ['beta2', h.beta2 ?? 0.999]] as const) {
    checkNumber(op, name, b, b >= 0 && b < 1, 'in [0, 1)');
  }
  checkNumber(op, 'eps', h.eps ?? 1e-8, (h.eps ?? 1e-8) > 0, '> 0');
  checkNumber(op, 'weightDecay', h.weightDecay ?? 0, (h.weightDecay ?? 0) >= 0, '≥ 0');
  const c = adamwConstants(h);
  rec.dispatch({
    label: `adamw ${s.param.label}`,
    pipeline: { shaders: ['common', 'grad_norm_common', 'adamw'], entry: clip ? 'adamw_step_clipped' : 'adamw_step' },
    uniforms: ADAMW_PARAMS.pack({ n, decay: c.decay, w1: c.w1, beta2: c.beta2, w2: c.w2, eps: c.eps, step_size: c.stepSize, bc2_sqrt: c.bc2Sqrt }),
    bindings: clip ? [s.param, s.grad, s.m, s.v, clip] : [s.param, s.grad, s.m, s.v],
    workgroups: [Math.ceil(n / WG)],
  });
}

export interface SgdHyper {
  lr: number;
  /** torch.optim.SGD's (coupled) weight decay: g + wd·p. */
  weightDecay?: number;
}

/** One SGD step without momentum (torch.optim.SGD semantics), in place on param. */
export function sgdStep(rec: Recorder, s: { param: Tensor; grad: Tensor }, h: SgdHyper, clip?: Tensor): void {
  const op = 'SGD step';
  const n = checkFlat(op, s.param, { grad: s.grad }, clip);
  checkNumber(op, 'lr', h.lr, Number.isFinite(h.lr) && h.lr >= 0, 'a finite number ≥ 0');
  const wd = h.weightDecay ?? 0;
  checkNumber(op, 'weightDecay', wd, wd >= 0, '≥ 0');
  rec.dispatch({
    label: `sgd ${s.param.label}`,
    pipeline: { shaders: ['common', 'grad_norm_common', 'sgd'], entry: clip ? 'sgd_step_clipped' : 'sgd_step' },
    uniforms: SGD_PARAMS.pack({ n, lr: h.lr, wd }),
    bindings: clip ? [s.param, s.grad, clip] : [s.param, s.grad],
    workgroups: [Math.ceil(n / WG)],
  });
}
