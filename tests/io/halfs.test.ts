import { describe, it, expect } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';

/** The value of an f16 bit pattern, straight from the IEEE 754 definition. */
function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

/** The value of a bf16 bit pattern: sign, 8 exponent bits, 7 mantissa bits. */
function bf16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 7) & 0xff;
  const mant = h & 0x7f;
  if (exp === 0xff) return mant === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * mant * 2 ** -133;
  return sign * 2 ** (exp - 127) * (1 + mant / 128);
}

/**
 * Brute-force nearest-even rounding: among all non-negative finite patterns (plus +Inf standing
 * for the first value past the largest finite one), pick the nearest; on a tie, the even pattern.
 */
function makeNearest(valueOf: (h: number) => number, infBits: number, pastMax: number) {
  const patterns: number[] = [];
  for (let h = 0; h < infBits; h++) patterns.push(h);
  patterns.push(infBits);
  const values = patterns.map((h) => (h === infBits ? pastMax : valueOf(h)));
  return (x: number): number => {
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    const a = Math.abs(x);
    if (a >= pastMax) return sign | infBits;
    let lo = 0;
    let hi = values.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (values[mid] <= a) lo = mid;
      else hi = mid;
    }
    const dLo = a - values[lo];
    const dHi = values[hi] - a;
    const pick = dLo < dHi ? lo : dHi < dLo ? hi : patterns[lo] % 2 === 0 ? lo : hi;
    return sign | patterns[pick];
  };
}

/** Seeded f32 samples: random bit patterns over the whole range plus values exactly at midpoints. */
function samples(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const r = next();
    // Every fourth sample keeps only the top bits so that halfway cases are frequent.
    bits[i] = i % 4 === 0 ? r & 0xffffe000 | 0x1000 : i % 4 === 1 ? (r & 0xffff0000) | 0x8000 : r;
  }
  return new Float32Array(bits.buffer);
}

const allPatterns = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('f16', () => {
  it('widens every one of the 65,536 patterns to its exact value', () => {
    const f = f16ToF32(allPatterns);
    for (let h = 0; h < 65536; h++) {
      const v = f16Value(h);
      if (Number.isNaN(v)) expect(Number.isNaN(f[h])).toBe(true);
      else expect(Object.is(f[h], v)).toBe(true);
    }
  });

  it('round-trips every pattern f16 → f32 → f16 (NaN stays NaN)', () => {
    const back = f32ToF16(f16ToF32(allPatterns));
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(f16Value(h))) expect(Number.isNaN(f16Value(back[h]))).toBe(true);
      else expect(back[h]).toBe(h);
    }
  });

  it('narrows known values with round-to-nearest-even', () => {
    const input = new Float32Array([
      1, -2, 65504, 65519.99, 65520, 1e9, -1e9, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 2 ** -14,
      1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, -0, Infinity, 3 * 2 ** -25,
    ]);
    expect(Array.from(f32ToF16(input))).toEqual([
      0x3c00, 0xc000, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0001, 0x0000, 0x0001, 0x0400,
      0x3c00, 0x3c02, 0x2e66, 0x8000, 0x7c00, 0x0002,
    ]);
    expect(Number.isNaN(f16Value(f32ToF16(new Float32Array([NaN]))[0]))).toBe(true);
  });

  it('matches brute-force nearest-even rounding on 100,000 seeded f32 values', () => {
    const nearest = makeNearest(f16Value, 0x7c00, 65536);
    const x = samples(100_000, 1234);
    const got = f32ToF16(x);
    let mismatches = 0;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) continue;
      if (got[i] !== nearest(x[i])) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe('bf16', () => {
  it('widens every one of the 65,536 patterns to its exact value', () => {
    const f = bf16ToF32(allPatterns);
    for (let h = 0; h < 65536; h++) {
      const v = bf16Value(h);
      if (Number.isNaN(v)) expect(Number.isNaN(f[h])).toBe(true);
      else expect(Object.is(f[h], v)).toBe(true);
    }
  });

  it('narrows known values with round-to-nearest-even', () => {
    const input = new Float32Array([1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, 0.1, 2 ** -133]);
    expect(Array.from(f32ToBf16(input))).toEqual([0x3f80, 0xc000, 0x3f80, 0x3f82, 0x7f80, 0x3dcd, 0x0001]);
    expect(Number.isNaN(bf16Value(f32ToBf16(new Float32Array([NaN]))[0]))).toBe(true);
  });

  it('matches brute-force nearest-even rounding on 100,000 seeded f32 values', () => {
    const nearest = makeNearest(bf16Value, 0x7f80, 2 ** 128);
    const x = samples(100_000, 99);
    const got = f32ToBf16(x);
    let mismatches = 0;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) continue;
      if (got[i] !== nearest(x[i])) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
