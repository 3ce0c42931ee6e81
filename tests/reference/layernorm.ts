// CPU float64 reference for LayerNorm (GPT-2): y = (x − mean) / sqrt(var + eps) · g + b,
// with the biased variance of torch.nn.LayerNorm.

/** x: [N, C], g, b: [C] → y: [N, C], mean, rstd: [N] */
export function layernormForwardRef(
  x: Float64Array,
  g: Float64Array,
  b: Float64Array,
  n: number,
  c: number,
  eps: number,
): { y: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(n * c);
  const mean = new Float64Array(n);
  const rstd = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += x[r * c + j];
    mean[r] = s / c;
    let ss = 0;
    for (let j = 0; j < c; j++) ss += (x[r * c + j] - mean[r]) ** 2;
    rstd[r] = 1 / Math.sqrt(ss / c + eps);
    for (let j = 0; j < c; j++) y[r * c + j] = (x[r * c + j] - mean[r]) * rstd[r] * g[j] + b[j];
  }
  return { y, mean, rstd };
}

/** dy, x: [N, C], g: [C] → dx: [N, C], from the closed form (statistics recomputed in float64). */
export function layernormBackwardRef(dy: Float64Array, x: Float64Array, g: Float64Array, n: number, c: number, eps: number): Float64Array {
  const { mean, rstd } = layernormForwardRef(x, g, new Float64Array(c), n, c, eps);
  const dx = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let meanD = 0;
    let meanDXhat = 0;
    for (let j = 0; j < c; j++) {
      const d = g[j] * dy[r * c + j];
      meanD += d / c;
      meanDXhat += (d * (x[r * c + j] - mean[r]) * rstd[r]) / c;
    }
    for (let j = 0; j < c; j++) {
      const xhat = (x[r * c + j] - mean[r]) * rstd[r];
      dx[r * c + j] = rstd[r] * (g[j] * dy[r * c + j] - meanD - xhat * meanDXhat);
    }
  }
  return dx;
}
