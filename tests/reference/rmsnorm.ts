// CPU float64 reference for RMSNorm (Llama): y = x / sqrt(mean(x²) + eps) · g.

/** x: [N, C], g: [C] → y: [N, C], rstd: [N] */
export function rmsnormForwardRef(x: Float64Array, g: Float64Array, n: number, c: number, eps: number): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(n * c);
  const rstd = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let j = 0; j < c; j++) ss += x[r * c + j] ** 2;
    rstd[r] = 1 / Math.sqrt(ss / c + eps);
    for (let j = 0; j < c; j++) y[r * c + j] = x[r * c + j] * rstd[r] * g[j];
  }
  return { y, rstd };
}

/** dy, x: [N, C], g: [C] → dx: [N, C], from the closed form (rstd recomputed in float64). */
export function rmsnormBackwardRef(dy: Float64Array, x: Float64Array, g: Float64Array, n: number, c: number, eps: number): Float64Array {
  const { rstd } = rmsnormForwardRef(x, g, n, c, eps);
  const dx = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let j = 0; j < c; j++) dot += dy[r * c + j] * g[j] * x[r * c + j];
    const s = rstd[r];
    for (let j = 0; j < c; j++) dx[r * c + j] = s * g[j] * dy[r * c + j] - (x[r * c + j] * s ** 3 * dot) / c;
  }
  return dx;
}
