/**
 * Conversions between 32-bit floats and the two 16-bit float formats found in checkpoints:
 * IEEE half (f16: 1 sign, 5 exponent, 10 mantissa bits) and bfloat16 (bf16: the top 16 bits of
 * an f32). Narrowing rounds to nearest, ties to even, like numpy and PyTorch; NaN stays NaN.
 * All functions work on whole typed arrays and return new ones.
 */

const F16_SUBNORMAL_UNIT = 2 ** -24;

/** f16 bit pattern → f32 bit pattern, except subnormals, which return -1 (handled by value). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp === 0) return mant === 0 ? sign >>> 0 : -1;
  return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
}

/** f32 bit pattern → nearest f16 bit pattern (ties to even). */
function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 112; // f16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal f16 (or zero): value = full mantissa × 2^(e - 14) in units of 2^-24.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const half = 2 ** (shift - 1);
    const rem = full % (2 * half);
    let h = Math.floor(full / (2 * half));
    if (rem > half || (rem === half && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1;
  return sign | h;
}

/** f32 bit pattern → nearest bf16 bit pattern (ties to even). */
function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  const bias = 0x7fff + ((x >>> 16) & 1);
  return Math.floor((x + bias) / 65536) & 0xffff;
}

export function f16ToF32(u16: Uint16Array): Float32Array {
  const out = new Float32Array(u16.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < u16.length; i++) {
    const h = u16[i];
    const b = f16BitsToF32Bits(h);
    if (b >= 0) bits[i] = b;
    else out[i] = (h & 0x8000 ? -1 : 1) * (h & 0x3ff) * F16_SUBNORMAL_UNIT;
  }
  return out;
}

export function bf16ToF32(u16: Uint16Array): Float32Array {
  const out = new Float32Array(u16.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < u16.length; i++) bits[i] = u16[i] << 16;
  return out;
}

export function f32ToF16(f32: Float32Array): Uint16Array {
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  const out = new Uint16Array(f32.length);
  for (let i = 0; i < f32.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

export function f32ToBf16(f32: Float32Array): Uint16Array {
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  const out = new Uint16Array(f32.length);
  for (let i = 0; i < f32.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  return out;
}

const scalarF32 = new Float32Array(1);
const scalarBits = new Uint32Array(scalarF32.buffer);

/** One number rounded to f32, then to the nearest f16 bit pattern (ties to even). */
export function f32ToF16Bits(x: number): number {
  scalarF32[0] = x;
  return f32BitsToF16Bits(scalarBits[0]);
}

/** One f16 bit pattern as a number (exact). */
export function f16BitsToF32(h: number): number {
  const b = f16BitsToF32Bits(h);
  if (b < 0) return (h & 0x8000 ? -1 : 1) * (h & 0x3ff) * F16_SUBNORMAL_UNIT;
  scalarBits[0] = b;
  return scalarF32[0];
}
