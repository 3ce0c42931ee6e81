import { mulberry32, shuffleInPlace } from './rng.ts';

/**
 * A deterministic train/validation split of row indices 0..n-1: the same (n, valFraction, seed)
 * always gives the same split. Both lists are sorted ascending and disjoint. With
 * 0 < valFraction and n ≥ 2 each side keeps at least one row.
 */
export function splitTrainVal(n: number, valFraction: number, seed: number): { train: number[]; val: number[] } {
  if (!Number.isInteger(n) || n < 0) throw new Error(`row count must be a non-negative integer, got ${n}`);
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new Error(`validation fraction must be in [0, 1), got ${valFraction}; pass e.g. --val-split 0.1`);
  }
  let k = Math.round(n * valFraction);
  if (valFraction > 0 && n >= 2) k = Math.min(Math.max(k, 1), n - 1);
  const order = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    mulberry32(seed),
  );
  const byIndex = (a: number, b: number) => a - b;
  return { train: order.slice(k).sort(byIndex), val: order.slice(0, k).sort(byIndex) };
}
