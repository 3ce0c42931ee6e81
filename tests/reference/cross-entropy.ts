/**
 * CPU float64 reference for masked softmax cross-entropy.
 * logits [N, V], targets [N] (−1 = not counted).
 */

/** Row log-sum-exp [N]. */
export function logSumExpRef(logits: ArrayLike<number>, N: number, V: number): Float64Array {
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[n * V + v] - max);
    out[n] = max + Math.log(sum);
  }
  return out;
}

/** Per-row loss [N]: lse − logits[target], 0 where the target is −1. */
export function crossEntropyRef(logits: ArrayLike<number>, targets: ArrayLike<number>, N: number, V: number): Float64Array {
  const lse = logSumExpRef(logits, N, V);
  const loss = new Float64Array(N);
  for (let n = 0; n < N; n++) if (targets[n] !== -1) loss[n] = lse[n] - logits[n * V + targets[n]];
  return loss;
}

/** dlogits [N, V] of scale · Σ loss: (softmax − onehot) · scale on counted rows, 0 elsewhere. */
export function crossEntropyBackwardRef(logits: ArrayLike<number>, targets: ArrayLike<number>, N: number, V: number, scale: number): Float64Array {
  const lse = logSumExpRef(logits, N, V);
  const d = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    if (targets[n] === -1) continue;
    for (let v = 0; v < V; v++) d[n * V + v] = (Math.exp(logits[n * V + v] - lse[n]) - (v === targets[n] ? 1 : 0)) * scale;
  }
  return d;
}
