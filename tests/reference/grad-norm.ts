/** CPU float64 reference for the global gradient norm and torch's clip_grad_norm_ coefficient. */

/** √Σ g² over the flat gradients; NaN and Inf propagate. */
export function gradNormRef(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** min(1, maxNorm / (norm + 1e-6)); 1 when clipping is off (maxNorm ≤ 0 or not finite). */
export function clipCoefRef(norm: number, maxNorm: number): number {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/** The step guard: halted stays or becomes 1 on a non-finite loss (when checked) or norm; clip becomes NaN then. */
export function stepGuardRef(loss: number, norm: number, clip: number, halted: number, checkLoss: boolean): { clip: number; halted: number } {
  const bad = halted !== 0 || (checkLoss && !Number.isFinite(loss)) || !Number.isFinite(norm);
  return bad ? { clip: Number.NaN, halted: 1 } : { clip, halted };
}
