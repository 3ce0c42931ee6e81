/**
 * CPU float64 references for the optimizers, written the way torch.optim documents them
 * (AdamW: decoupled weight decay; SGD: coupled weight decay, no momentum). All arrays are flat
 * [n] and updated in place; clip scales the gradient first (clip_grad_norm_ before step()).
 */

export interface AdamWRefHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** One AdamW step number t (1-based). */
export function adamwRef(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamWRefHyper, t: number, clip = 1): void {
  const bc1 = 1 - h.beta1 ** t;
  const bc2 = 1 - h.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * clip;
    p[i] *= 1 - h.lr * h.weightDecay;
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    p[i] -= (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
  }
}

/** One SGD step: p ← p − lr·(g·clip + wd·p). */
export function sgdRef(p: Float64Array, g: ArrayLike<number>, lr: number, weightDecay: number, clip = 1): void {
  for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] * clip + weightDecay * p[i]);
}
