import { mulberry32 } from '../../src/data/rng.ts';

/** Deterministic pseudo-random numbers for tests, so failures reproduce. */
export const rng = mulberry32;

/** n values uniform in [-scale, scale), rounded to f32 so CPU references see exactly what the GPU sees. */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround((r() * 2 - 1) * scale);
  return out;
}

/** Largest |a−b| / (|b| + floor) over all elements: relative error that tolerates values near zero. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}

/**
 * Central finite differences of a scalar function f at x along every coordinate listed:
 * (f(x + h·e_i) − f(x − h·e_i)) / 2h, in float64.
 */
export function finiteDifference(f: (x: Float64Array) => number, x: Float64Array, indices: number[], h = 1e-5): Float64Array {
  const out = new Float64Array(indices.length);
  indices.forEach((i, k) => {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    out[k] = (up - down) / (2 * h);
  });
  return out;
}

/** Every stride-th index up to n, plus the last: a cheap spread of coordinates to probe. */
export function sampleIndices(n: number, count: number): number[] {
  const step = Math.max(1, Math.floor(n / count));
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

/** max |a − b| / max |b|: an error relative to the scale of the reference values. */
export function relToMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}
