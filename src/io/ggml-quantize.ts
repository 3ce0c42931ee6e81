/**
 * ggml's reference quantizers, ported from llama.cpp ggml/src/ggml-quants.c (quantize_row_*_ref,
 * the path llama-quantize takes without an importance matrix), so the bytes equal llama.cpp's:
 *
 *   Q8_0  blocks of 32: f16 d = amax/127, 32 × int8 round(x/d)                         (34 bytes)
 *   Q5_0  blocks of 32: f16 d = max/-16, 4 bytes of 5th bits, 16 bytes of low nibbles   (22 bytes)
 *   Q4_K  super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins for 8 sub-blocks
 *         of 32 (make_qkx2_quants), 128 bytes of 4-bit quants                           (144 bytes)
 *   Q6_K  super-blocks of 256: 128 bytes low 4 bits, 64 bytes high 2 bits, 16 int8 scales for
 *         sub-blocks of 16 (make_qx_quants), f16 d                                      (210 bytes)
 *
 * C computes in float32, so every operation here is rounded with Math.fround in the C order;
 * nearest_int is round-half-even through the 1.5·2^23 trick. Input: f32 values in ggml order
 * (rows of dims[0] values, a multiple of the block size).
 */
import { GGML_BF16, GGML_F16, GGML_F32, GGML_TYPES } from './ggml-types.ts';
import { f16BitsToF32, f32ToBf16, f32ToF16, f32ToF16Bits } from './halfs.ts';

export const GGML_Q5_0 = 6;
export const GGML_Q8_0 = 8;
export const GGML_Q4_K = 12;
export const GGML_Q6_K = 14;

const f = Math.fround;
const QK_K = 256;
const GROUP_MAX_EPS = f(1e-15);
const MAGIC = 12582912; // 1.5 · 2^23

function nearestInt(x: number): number {
  return f(x + MAGIC) - MAGIC;
}

/** C's roundf: half away from zero. */
function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** f32 → f16 → f32, as GGML_FP16_TO_FP32(GGML_FP32_TO_FP16(x)). */
function viaF16(x: number): number {
  return f16BitsToF32(f32ToF16Bits(x));
}

function checkLength(values: Float32Array, block: number, what: string): void {
  if (values.length % block !== 0) throw new Error(`${what}: ${values.length} values is not a whole number of blocks of ${block}`);
}

export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkLength(x, 32, 'quantizeQ8_0');
  const nb = x.length / 32;
  const out = new Uint8Array(nb * 34);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const x0 = i * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[x0 + j]));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    dv.setUint16(i * 34, f32ToF16Bits(d), true);
    for (let j = 0; j < 32; j++) dv.setInt8(i * 34 + 2 + j, roundf(f(x[x0 + j] * id)));
  }
  return out;
}

export function quantizeQ5_0(x: Float32Array): Uint8Array {
  checkLength(x, 32, 'quantizeQ5_0');
  const nb = x.length / 32;
  const out = new Uint8Array(nb * 22);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const x0 = i * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[x0 + j];
      if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
    }
    const d = f(max / -16);
    const id = d ? f(1 / d) : 0;
    dv.setUint16(i * 22, f32ToF16Bits(d), true);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const xi0 = Math.min(31, Math.trunc(f(f(x[x0 + j] * id) + 16.5)));
      const xi1 = Math.min(31, Math.trunc(f(f(x[x0 + 16 + j] * id) + 16.5)));
      out[i * 22 + 6 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + 16);
    }
    dv.setUint32(i * 22 + 2, qh >>> 0, true);
  }
  return out;
}

/** make_qkx2_quants: an asymmetric (scale, min) fit of n values to 0..nmax; returns [scale, -min]. */
function makeQkx2Quants(n: number, nmax: number, x: Float32Array, xo: number, w: Float32Array, L: Uint8Array, lo: number,
  laux: Uint8Array, rmin: number, rdelta: number, nstep: number): [number, number] {
  let min = x[xo];
  let max = x[xo];
  let sumW = w[0];
  let sumX = f(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    sumW = f(sumW + w[i]);
    sumX = f(sumX + f(w[i] * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, lo, lo + n);
    return [0, -min];
  }
  let iscale = f(nmax / f(max - min));
  let scale = f(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.max(0, Math.min(nmax, nearestInt(f(iscale * f(x[xo + i] - min)))));
    L[lo + i] = l;
    const diff = f(f(f(scale * l) + min) - x[xo + i]);
    bestError = f(bestError + f(w[i] * f(diff * diff)));
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / f(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(f(iscale * f(x[xo + i] - min)))));
      laux[i] = l;
      const wl = f(w[i] * l);
      sumL = f(sumL + wl);
      sumL2 = f(sumL2 + f(wl * l));
      sumXL = f(sumXL + f(wl * x[xo + i]));
    }
    const D = f(f(sumW * sumL2) - f(sumL * sumL));
    if (D > 0) {
      let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D);
      let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        const diff = f(f(f(thisScale * laux[i]) + thisMin) - x[xo + i]);
        curError = f(curError + f(w[i] * f(diff * diff)));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = laux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return [scale, -min];
}

export function quantizeQ4_K(x: Float32Array): Uint8Array {
  checkLength(x, QK_K, 'quantizeQ4_K');
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * 144);
  const dv = new DataView(out.buffer);
  const L = new Uint8Array(QK_K);
  const laux = new Uint8Array(32);
  const weights = new Float32Array(32);
  const mins = new Float32Array(8);
  const scales = new Float32Array(8);
  const rdelta = f(0.1);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const y = i * 144;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = f(sumX2 + f(x[xb + 32 * j + l] * x[xb + 32 * j + l]));
      const avX = f(Math.sqrt(f(sumX2 / 32)));
      for (let l = 0; l < 32; l++) weights[l] = f(avX + Math.abs(x[xb + 32 * j + l]));
      const [s, m] = makeQkx2Quants(32, 15, x, xb + 32 * j, weights, L, 32 * j, laux, -1, rdelta, 20);
      scales[j] = s;
      mins[j] = m;
      if (s > maxScale) maxScale = s;
      if (m > maxMin) maxMin = m;
    }
    const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
    const sc = out.subarray(y + 4, y + 16);
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(f(invScale * scales[j])) & 0xff);
      const lm = Math.min(63, nearestInt(f(invMin * mins[j])) & 0xff);
      if (j < 4) {
        sc[j] = ls;
        sc[j + 4] = lm;
      } else {
        sc[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        sc[j - 4] |= (ls >> 4) << 6;
        sc[j] |= (lm >> 4) << 6;
      }
    }
    const dBits = f32ToF16Bits(f(maxScale / 63));
    const dminBits = f32ToF16Bits(f(maxMin / 63));
    dv.setUint16(y, dBits, true);
    dv.setUint16(y + 2, dminBits, true);
    const d0 = f16BitsToF32(dBits);
    const dmin0 = f16BitsToF32(dminBits);
    for (let j = 0; j < 8; j++) {
      const s = j < 4 ? sc[j] & 63 : (sc[j + 4] & 0xf) | ((sc[j - 4] >> 6) << 4);
      const m = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      const d = f(d0 * s);
      if (!d) continue;
      const dm = f(dmin0 * m);
      for (let ii = 0; ii < 32; ii++) {
        L[32 * j + ii] = Math.max(0, Math.min(15, nearestInt(f(f(x[xb + 32 * j + ii] + dm) / d))));
      }
    }
    for (let j = 0, q = y + 16; j < QK_K; j += 64, q += 32) {
      for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4);
    }
  }
  return out;
}

/** make_qx_quants with rmse_type 1 and no weights: a symmetric scale for n values in -nmax..nmax-1. */
function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) { amax = ax; max = x[xo + i]; }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  const clamp = (l: number) => Math.max(-nmax, Math.min(nmax - 1, l));
  let iscale = f(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = clamp(nearestInt(f(iscale * xi)));
    L[lo + i] = l + nmax;
    const w = f(xi * xi);
    sumlx = f(sumlx + f(f(w * xi) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  let scale = suml2 ? f(sumlx / suml2) : 0;
  let best = f(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = f(-f(nmax + f(f(0.1) * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const l = clamp(nearestInt(f(iscale * xi)));
      const w = f(xi * xi);
      sumlx = f(sumlx + f(f(w * xi) * l));
      suml2 = f(suml2 + f(f(w * l) * l));
    }
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      for (let i = 0; i < n; i++) L[lo + i] = nmax + clamp(nearestInt(f(iscale * x[xo + i])));
      scale = f(sumlx / suml2);
      best = f(scale * sumlx);
    }
  }
  return scale;
}

export function quantizeQ6_K(x: Float32Array): Uint8Array {
  checkLength(x, QK_K, 'quantizeQ6_K');
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * 210);
  const dv = new DataView(out.buffer);
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const y = i * 210;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, x, xb + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) { maxAbsScale = Math.abs(scale); maxScale = scale; }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // the block stays all zero, d = 0
    const iscale = f(-128 / maxScale);
    const dBits = f32ToF16Bits(f(1 / iscale));
    dv.setUint16(y + 208, dBits, true);
    const d0 = f16BitsToF32(dBits);
    for (let ib = 0; ib < 16; ib++) dv.setInt8(y + 192 + ib, Math.min(127, nearestInt(f(iscale * scales[ib]))));
    for (let j = 0; j < 16; j++) {
      const d = f(d0 * dv.getInt8(y + 192 + j));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        L[16 * j + ii] = Math.max(-32, Math.min(31, nearestInt(f(x[xb + 16 * j + ii] / d)))) + 32;
      }
    }
    for (let j = 0, ql = y, qh = y + 128; j < QK_K; j += 128, ql += 64, qh += 32) {
      for (let l = 0; l < 32; l++) {
        const q1 = L[j + l] & 0xf, q2 = L[j + l + 32] & 0xf, q3 = L[j + l + 64] & 0xf, q4 = L[j + l + 96] & 0xf;
        out[ql + l] = q1 | (q3 << 4);
        out[ql + l + 32] = q2 | (q4 << 4);
        out[qh + l] = (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6);
      }
    }
  }
  return out;
}

const bytesOf = (a: Float32Array | Uint16Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The types `encodeTensor` writes. */
export const ENCODABLE_TYPES: ReadonlySet<number> = new Set([GGML_F32, GGML_F16, GGML_BF16, GGML_Q8_0, GGML_Q5_0, GGML_Q4_K, GGML_Q6_K]);

/**
 * f32 values (rows of `cols` values, ggml order) encoded in a ggml type. Throws, naming the
 * tensor, when the row length is not a multiple of the type's block size.
 */
export function encodeTensor(values: Float32Array, cols: number, type: number, name = 'tensor'): Uint8Array {
  const t = GGML_TYPES.get(type);
  if (!t || !ENCODABLE_TYPES.has(type)) throw new Error(`encodeTensor: '${name}': writing ggml type ${t?.name ?? type} is not supported (F32, F16, BF16, Q8_0, Q5_0, Q4_K, Q6_K are)`);
  if (cols <= 0 || values.length % cols !== 0) throw new Error(`encodeTensor: '${name}': ${values.length} values are not whole rows of ${cols}`);
  if (cols % t.blockSize !== 0) throw new Error(`encodeTensor: '${name}' has rows of ${cols}, not a multiple of ${t.name}'s block size ${t.blockSize}`);
  switch (type) {
    case GGML_F32: return new Uint8Array(Float32Array.from(values).buffer);
    case GGML_F16: return bytesOf(f32ToF16(values));
    case GGML_BF16: return bytesOf(f32ToBf16(values));
    case GGML_Q8_0: return quantizeQ8_0(values);
    case GGML_Q5_0: return quantizeQ5_0(values);
    case GGML_Q4_K: return quantizeQ4_K(values);
    default: return quantizeQ6_K(values);
  }
}
