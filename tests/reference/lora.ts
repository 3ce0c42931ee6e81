/**
 * CPU float64 reference of a LoRA linear layer (PEFT): y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ.
 * x [M, K], W [N, K], A [R, K], B [N, R]. The dropout mask is given as one factor per element of
 * x (0 or 1/(1−p)), so forward and backward share it.
 */
import { dropoutKeep } from '../../src/kernels/lora.ts';

export interface LoraDims {
  m: number;
  k: number;
  n: number;
  r: number;
}

/** Factor per element of x [M·K]: 0 when dropped, 1/(1−p) when kept (1 everywhere for p = 0). */
export function dropoutMaskRef(count: number, p: number, seed: number): Float64Array {
  const mask = new Float64Array(count);
  for (let i = 0; i < count; i++) mask[i] = dropoutKeep(seed, i, p) ? 1 / (1 - p) : 0;
  return mask;
}

export interface LoraRefInputs {
  x: ArrayLike<number>;
  w: ArrayLike<number>;
  bias?: ArrayLike<number>;
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  scale: number;
  mask: ArrayLike<number>;
}

/** Returns y [M, N] and h = drop(x)·Aᵀ [M, R]. */
export function loraForwardRef(d: LoraDims, v: LoraRefInputs): { y: Float64Array; h: Float64Array } {
  const { m, k, n, r } = d;
  const h = new Float64Array(m * r);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < r; q++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += v.x[i * k + c] * v.mask[i * k + c] * v.a[q * k + c];
      h[i * r + q] = s;
    }
  }
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let base = v.bias ? v.bias[j] : 0;
      for (let c = 0; c < k; c++) base += v.x[i * k + c] * v.w[j * k + c];
      let adapter = 0;
      for (let q = 0; q < r; q++) adapter += h[i * r + q] * v.b[j * r + q];
      y[i * n + j] = base + v.scale * adapter;
    }
  }
  return { y, h };
}

/** Gradients of sum(y ⊙ dY): dX [M, K], dA [R, K], dB [N, R] (written, not accumulated). */
export function loraBackwardRef(d: LoraDims, v: LoraRefInputs, dy: ArrayLike<number>): { dx: Float64Array; da: Float64Array; db: Float64Array } {
  const { m, k, n, r } = d;
  const { h } = loraForwardRef(d, v);
  // dh [M, R] = s·dY·B
  const dh = new Float64Array(m * r);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < r; q++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += dy[i * n + j] * v.b[j * r + q];
      dh[i * r + q] = v.scale * s;
    }
  }
  // dB [N, R] = s·dYᵀ·h
  const db = new Float64Array(n * r);
  for (let j = 0; j < n; j++) {
    for (let q = 0; q < r; q++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += dy[i * n + j] * h[i * r + q];
      db[j * r + q] = v.scale * s;
    }
  }
  // dA [R, K] = dhᵀ·drop(x)
  const da = new Float64Array(r * k);
  for (let q = 0; q < r; q++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += dh[i * r + q] * v.x[i * k + c] * v.mask[i * k + c];
      da[q * k + c] = s;
    }
  }
  // dX [M, K] = dY·W + mask ⊙ (dh·A)
  const dx = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < k; c++) {
      let base = 0;
      for (let j = 0; j < n; j++) base += dy[i * n + j] * v.w[j * k + c];
      let adapter = 0;
      for (let q = 0; q < r; q++) adapter += dh[i * r + q] * v.a[q * k + c];
      dx[i * k + c] = base + v.mask[i * k + c] * adapter;
    }
  }
  return { dx, da, db };
}
