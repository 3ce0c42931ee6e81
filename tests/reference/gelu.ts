// CPU float64 reference for GELU with the tanh approximation (GPT-2's `gelu_new`).
//   y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))

const K = Math.sqrt(2 / Math.PI);
const A = 0.044715;

/** x: [n] → y: [n] */
export function geluForwardRef(x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = 0.5 * v * (1 + Math.tanh(K * (v + A * v * v * v)));
  }
  return y;
}

/** dy, x: [n] → dx = dy · gelu'(x): [n] */
export function geluBackwardRef(dy: Float64Array, x: Float64Array): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const th = Math.tanh(K * (v + A * v * v * v));
    const du = K * (1 + 3 * A * v * v);
    dx[i] = dy[i] * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * du);
  }
  return dx;
}
