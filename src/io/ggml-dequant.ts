/**
 * Float64 dequantizers of ggml's block formats, ported from the reference `dequantize_row_*` of
 * ggml/src/ggml-quants.c (llama.cpp). Blocks are byte-packed and little-endian; every scale is an
 * f16 (or small integer) and every quant an integer, so each value is computed exactly in float64
 * (ggml rounds `d·q − m` once to f32; here it is rounded once when stored to f32).
 *
 * Layouts (bytes), one block each; QK_K = 256:
 *   Q4_0  d | qs[16]                 x = (nibble − 8)·d          (low nibbles: elements 0..15)
 *   Q4_1  d | m | qs[16]             x = nibble·d + m
 *   Q5_0  d | qh u32 | qs[16]        x = (nibble | bit_e(qh)<<4 − 16)·d
 *   Q5_1  d | m | qh u32 | qs[16]    x = (nibble | bit_e(qh)<<4)·d + m
 *   Q8_0  d | qs[32] int8            x = q·d
 *   Q2_K  scales[16] | qs[64] | d | dmin             16 groups of 16, 2-bit quants, 4-bit scale and min
 *   Q3_K  hmask[32] | qs[64] | scales[12] | d        16 groups of 16, 2 low bits + 1 high bit, 6-bit signed scales
 *   Q4_K  d | dmin | scales[12] | qs[128]            8 groups of 32, 4-bit quants, 6-bit scale and min
 *   Q5_K  d | dmin | scales[12] | qh[32] | qs[128]   8 groups of 32, 4 low bits + 1 high bit
 *   Q6_K  ql[128] | qh[64] | scales[16] int8 | d     16 groups of 16, 4 low bits + 2 high bits
 */
import { quantBlock, quantNameOf, type QuantName } from './ggml-types.ts';

/** One f16 bit pattern as a number (exact). */
export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

type Block = (b: Uint8Array, o: number, y: Float64Array, at: number) => void;

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const half = (b: Uint8Array, o: number) => f16Value(u16(b, o));
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const i8 = (v: number) => (v << 24) >> 24;

/** The 6-bit scale and min of group j of a Q4_K/Q5_K block (ggml's get_scale_min_k4). */
export function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/** The signed 6-bit scale of group j of a Q3_K block (scales at byte o). */
export function scaleQ3K(j: number, s: Uint8Array, o: number): number {
  const low = j < 8 ? s[o + j] & 0xf : s[o + j - 8] >> 4;
  const high = (s[o + 8 + (j % 4)] >> (2 * Math.floor(j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

const q4_0: Block = (b, o, y, at) => {
  const d = half(b, o);
  for (let j = 0; j < 16; j++) {
    y[at + j] = ((b[o + 2 + j] & 0xf) - 8) * d;
    y[at + j + 16] = ((b[o + 2 + j] >> 4) - 8) * d;
  }
};

const q4_1: Block = (b, o, y, at) => {
  const d = half(b, o);
  const m = half(b, o + 2);
  for (let j = 0; j < 16; j++) {
    y[at + j] = (b[o + 4 + j] & 0xf) * d + m;
    y[at + j + 16] = (b[o + 4 + j] >> 4) * d + m;
  }
};

const q5_0: Block = (b, o, y, at) => {
  const d = half(b, o);
  const qh = u32(b, o + 2);
  for (let j = 0; j < 16; j++) {
    y[at + j] = (((b[o + 6 + j] & 0xf) | (((qh >>> j) & 1) << 4)) - 16) * d;
    y[at + j + 16] = (((b[o + 6 + j] >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
  }
};

const q5_1: Block = (b, o, y, at) => {
  const d = half(b, o);
  const m = half(b, o + 2);
  const qh = u32(b, o + 4);
  for (let j = 0; j < 16; j++) {
    y[at + j] = ((b[o + 8 + j] & 0xf) | (((qh >>> j) & 1) << 4)) * d + m;
    y[at + j + 16] = ((b[o + 8 + j] >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m;
  }
};

const q8_0: Block = (b, o, y, at) => {
  const d = half(b, o);
  for (let j = 0; j < 32; j++) y[at + j] = i8(b[o + 2 + j]) * d;
};

// K-quants: element e of the 256 in a block. Q2_K/Q3_K/Q6_K pack 128 elements as 4 rows of 32
// sharing byte l = e % 32 (bit pairs 0-1, 2-3, 4-5, 6-7 for rows 0..3); Q4_K/Q5_K pack 64 as the
// low then the high nibbles of 32 bytes.
const q2_k: Block = (b, o, y, at) => {
  const d = half(b, o + 80);
  const dmin = half(b, o + 82);
  for (let e = 0; e < 256; e++) {
    const sc = b[o + (e >> 4)];
    const q = (b[o + 16 + 32 * (e >> 7) + (e & 31)] >> (2 * ((e & 127) >> 5))) & 3;
    y[at + e] = d * (sc & 0xf) * q - dmin * (sc >> 4);
  }
};

const q3_k: Block = (b, o, y, at) => {
  const d = half(b, o + 108);
  for (let e = 0; e < 256; e++) {
    const row = (e & 127) >> 5;
    const q = (b[o + 32 + 32 * (e >> 7) + (e & 31)] >> (2 * row)) & 3;
    const high = (b[o + (e & 31)] >> (4 * (e >> 7) + row)) & 1;
    y[at + e] = d * scaleQ3K(e >> 4, b, o + 96) * (q - (high ? 0 : 4));
  }
};

const q4_k: Block = (b, o, y, at) => {
  const d = half(b, o);
  const dmin = half(b, o + 2);
  for (let e = 0; e < 256; e++) {
    const [sc, m] = scaleMinK4(e >> 5, b, o + 4);
    const byte = b[o + 16 + 32 * (e >> 6) + (e & 31)];
    const q = e & 32 ? byte >> 4 : byte & 0xf;
    y[at + e] = d * sc * q - dmin * m;
  }
};

const q5_k: Block = (b, o, y, at) => {
  const d = half(b, o);
  const dmin = half(b, o + 2);
  for (let e = 0; e < 256; e++) {
    const [sc, m] = scaleMinK4(e >> 5, b, o + 4);
    const byte = b[o + 48 + 32 * (e >> 6) + (e & 31)];
    const high = (b[o + 16 + (e & 31)] >> (e >> 5)) & 1;
    const q = (e & 32 ? byte >> 4 : byte & 0xf) + 16 * high;
    y[at + e] = d * sc * q - dmin * m;
  }
};

const q6_k: Block = (b, o, y, at) => {
  const d = half(b, o + 208);
  for (let e = 0; e < 256; e++) {
    const row = (e & 127) >> 5;
    const l = e & 31;
    const low = b[o + 64 * (e >> 7) + l + 32 * (row & 1)];
    const q = ((row < 2 ? low & 0xf : low >> 4) | (((b[o + 128 + 32 * (e >> 7) + l] >> (2 * row)) & 3) << 4)) - 32;
    y[at + e] = d * i8(b[o + 192 + (e >> 4)]) * q;
  }
};

const BLOCKS: Record<QuantName, Block> = { q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k };

/**
 * `count` elements of quantized data (whole blocks, in order) as float64. `raw` must hold exactly
 * count / blockSize blocks; the caller (the GGUF reader) has checked the sizes.
 */
export function dequantize(name: QuantName, raw: Uint8Array, count: number): Float64Array {
  const { blockSize, typeSize } = quantBlock(name);
  const blocks = count / blockSize;
  if (!Number.isInteger(blocks) || raw.length !== blocks * typeSize) {
    throw new Error(`dequantize ${name}: ${raw.length} bytes is not ${count / blockSize} blocks of ${typeSize} bytes`);
  }
  const y = new Float64Array(count);
  const block = BLOCKS[name];
  for (let i = 0; i < blocks; i++) block(raw, i * typeSize, y, i * blockSize);
  return y;
}

/** Quantized data by ggml type id, rounded to f32 (a new array). */
export function dequantizeToF32(type: number, raw: Uint8Array, count: number): Float32Array {
  const name = quantNameOf(type);
  if (!name) throw new Error(`dequantizeToF32: ggml type ${type} is not a quantized type tsugiki reads`);
  return Float32Array.from(dequantize(name, raw, count));
}
