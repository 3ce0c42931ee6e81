/**
 * CPU float64 references for the matrix products of linear layers. Row-major arrays; shapes in
 * comments (M rows = B·T, K inputs, N outputs; W is HF [out, in] = [N, K]).
 */

/** y [M, N] = alpha · x [M, K] · Wᵀ + bias [N]. */
export function linearRef(x: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number, bias?: ArrayLike<number>, alpha = 1): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += x[i * k + q] * w[j * k + q];
      y[i * n + j] = alpha * s + (bias ? bias[j] : 0);
    }
  }
  return y;
}

/** dX [M, K] = alpha · dY [M, N] · W [N, K]. */
export function linearDxRef(dy: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number, alpha = 1): Float64Array {
  const dx = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += dy[i * n + j] * w[j * k + q];
      dx[i * k + q] = alpha * s;
    }
  }
  return dx;
}

/** dW [N, K] = alpha · dYᵀ [N, M] · x [M, K]. */
export function linearDwRef(dy: ArrayLike<number>, x: ArrayLike<number>, m: number, n: number, k: number, alpha = 1): Float64Array {
  const dw = new Float64Array(n * k);
  for (let j = 0; j < n; j++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += dy[i * n + j] * x[i * k + q];
      dw[j * k + q] = alpha * s;
    }
  }
  return dw;
}

/**
 * c [batch, M, N] = op(a) · op(b) for each batch: a [batch, M, K] ([batch, K, M] with transA),
 * b [batch, K, N] ([batch, N, K] with transB), or one b shared by all batches when bShared.
 */
export function matmulRef(
  a: ArrayLike<number>, b: ArrayLike<number>, batch: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, bShared: boolean,
): Float64Array {
  const c = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const ao = z * m * k;
    const bo = bShared ? 0 : z * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = transA ? a[ao + q * m + i] : a[ao + i * k + q];
          const bv = transB ? b[bo + j * k + q] : b[bo + q * n + j];
          s += av * bv;
        }
        c[z * m * n + i * n + j] = s;
      }
    }
  }
  return c;
}
