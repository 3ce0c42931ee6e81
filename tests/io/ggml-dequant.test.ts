/**
 * The float64 dequantizers against files written by llama.cpp's own quantizer: each quantized
 * tensor must be its F32 original up to the type's quantization error, block by block, and each
 * block's scales must carry the exact marks of ggml's reference quantizers (quantize_row_*_ref,
 * which llama_model_quantize runs when no importance matrix is given).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { f16Value, scaleMinK4, scaleQ3K } from '../../src/io/ggml-dequant.ts';
import { quantBlock, quantNameOf, type QuantName } from '../../src/io/ggml-types.ts';
import { elementCount, findGgufTensor, ggufTensorBytes, ggufTensorToF32, parseGguf, type GgufFile } from '../../src/io/gguf.ts';
import { f32ToF16 } from '../../src/io/halfs.ts';

const DIR = new URL('../../../shared/data/models/', import.meta.url);
const open = (name: string) => {
  const bytes = new Uint8Array(readFileSync(new URL(name, DIR)));
  return { file: parseGguf(bytes, name), bytes };
};

/** The f16 that ggml stores for an f32 value (GGML_FP32_TO_FP16 rounds to nearest even). */
const toHalf = (x: number) => f16Value(f32ToF16(Float32Array.of(x))[0]);
const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);

/**
 * Per element: |x̂ − x| ≤ bound · (the block's or group's quantization step) + the f16 rounding of
 * the offset. The step: Q8_0, Q4_0, Q5_0: |d|; Q4_1, Q5_1: d; K-quants: d·scale of the element's
 * group (Q4_K/Q5_K also subtract dmin·min, exact). Round-to-nearest gives ½ step; Q4_0/Q5_0 clamp
 * the top level (x·(1/d) up to +8 rounds to 16 → 15), a full step; ggml's K-quant refinement
 * (make_qkx2_quants / make_qx_quants) picks a scale that may clip a few elements (measured worst:
 * Q2_K 1.23, Q3_K 1.12, Q4_K 1.03, Q5_K 1.21, Q6_K 0.85 steps). Q8_0: ½ step + 127 × the f16
 * rounding of d (2^-11) = 0.5625 (measured 0.545).
 */
const STEP_BOUND: Record<QuantName, number> = {
  q8_0: 0.5625, q4_0: 1.01, q5_0: 1.01, q4_1: 0.51, q5_1: 0.51, q2_k: 1.5, q3_k: 1.5, q4_k: 1.5, q5_k: 1.5, q6_k: 1,
};

interface Blockwise {
  worst: number;
  rms: number;
  blocks: number;
}

/** Checks one tensor block by block against its original; returns its worst error in steps. */
function checkTensor(q: GgufFile, qBytes: Uint8Array, name: string, original: Float32Array): Blockwise | null {
  const info = findGgufTensor(q, name);
  const qname = quantNameOf(info.type);
  if (!qname) return null;
  const got = ggufTensorToF32(q, qBytes, info);
  const raw = ggufTensorBytes(q, qBytes, info);
  const { blockSize, typeSize } = quantBlock(qname);
  let worst = 0;
  let se = 0;
  let sx = 0;
  for (let blk = 0; blk < elementCount(info) / blockSize; blk++) {
    const o = blk * typeSize;
    const x = original.subarray(blk * blockSize, (blk + 1) * blockSize);
    const y = got.subarray(blk * blockSize, (blk + 1) * blockSize);
    const amaxAt = x.reduce((best, v, i) => (Math.abs(v) > Math.abs(x[best]) ? i : best), 0);
    const [min, max] = [Math.min(...x), Math.max(...x)];
    // Exact structural marks of the reference quantizers, and each element's step.
    const step = new Float64Array(blockSize);
    switch (qname) {
      case 'q8_0': expect(u16(raw, o)).toBe(f32ToF16(Float32Array.of(Math.fround(Math.abs(x[amaxAt]) / 127)))[0]); break;
      case 'q4_0': expect(f16Value(u16(raw, o))).toBe(toHalf(Math.fround(x[amaxAt] / -8))); break;
      case 'q5_0': expect(f16Value(u16(raw, o))).toBe(toHalf(Math.fround(x[amaxAt] / -16))); break;
      case 'q4_1': case 'q5_1':
        expect(f16Value(u16(raw, o))).toBe(toHalf(Math.fround(Math.fround(max - min) / (qname === 'q4_1' ? 15 : 31))));
        expect(f16Value(u16(raw, o + 2))).toBe(toHalf(min));
        break;
      case 'q2_k': {
        const sc = Array.from(raw.subarray(o, o + 16));
        expect(Math.max(...sc.map((s) => s & 0xf))).toBe(15); // the largest scale maps to 15
        for (let e = 0; e < 256; e++) step[e] = f16Value(u16(raw, o + 80)) * (sc[e >> 4] & 0xf);
        break;
      }
      case 'q3_k': {
        const sc = Array.from({ length: 16 }, (_, j) => scaleQ3K(j, raw, o + 96));
        expect(Math.min(...sc)).toBe(-32); // iscale = −32 / max_scale: the largest maps to −32
        for (let e = 0; e < 256; e++) step[e] = Math.abs(f16Value(u16(raw, o + 108)) * sc[e >> 4]);
        break;
      }
      case 'q4_k': case 'q5_k': {
        const sm = Array.from({ length: 8 }, (_, j) => scaleMinK4(j, raw, o + 4));
        expect(Math.max(...sm.map((s) => s[0]))).toBe(63); // 63 / max_scale: the largest maps to 63
        if (f16Value(u16(raw, o + 2)) !== 0) expect(Math.max(...sm.map((s) => s[1]))).toBe(63);
        for (let e = 0; e < 256; e++) step[e] = f16Value(u16(raw, o)) * sm[e >> 5][0];
        break;
      }
      case 'q6_k': {
        const sc = Array.from(raw.subarray(o + 192, o + 208), (b) => (b << 24) >> 24);
        expect(Math.min(...sc)).toBe(-128); // iscale = −128 / max_scale
        for (let e = 0; e < 256; e++) step[e] = Math.abs(f16Value(u16(raw, o + 208)) * sc[e >> 4]);
        break;
      }
    }
    if (blockSize === 32) step.fill(Math.abs(f16Value(u16(raw, o))));
    // Q4_1/Q5_1 store the offset m = min as f16: its rounding adds up to 2^-11·|min|.
    const offset = qname === 'q4_1' || qname === 'q5_1' ? Math.abs(min) * 2 ** -11 : 0;
    for (let i = 0; i < blockSize; i++) {
      const err = Math.abs(y[i] - x[i]);
      se += err * err;
      sx += x[i] * x[i];
      if (step[i] === 0) {
        expect(err).toBeLessThanOrEqual(Math.abs(x[i]) + offset + 1e-30);
        continue;
      }
      worst = Math.max(worst, (err - offset) / step[i]);
    }
  }
  return { worst, rms: Math.sqrt(se / sx), blocks: elementCount(info) / blockSize };
}

/**
 * Relative RMS error of each type over whole tensors, measured on these files (Q8_0 0.0062, Q4_0
 * 0.096, Q4_1 0.088, Q5_0 0.050, Q5_1 0.042, Q2_K 0.30, Q3_K 0.15, Q4_K 0.072, Q5_K 0.036, Q6_K
 * 0.018), with 25% margin: a decoder that mixed up elements would be off by ~1.4 (√2).
 */
const RMS_BOUND: Record<QuantName, number> = {
  q8_0: 0.008, q4_0: 0.12, q4_1: 0.11, q5_0: 0.065, q5_1: 0.055, q2_k: 0.37, q3_k: 0.19, q4_k: 0.09, q5_k: 0.045, q6_k: 0.023,
};

function checkFile(quantized: string, original: string): Map<QuantName, { worst: number; rms: number; blocks: number }> {
  const q = open(quantized);
  const f = open(original);
  const seen = new Map<QuantName, { worst: number; rms: number; blocks: number }>();
  for (const t of q.file.tensors) {
    const ref = ggufTensorToF32(f.file, f.bytes, findGgufTensor(f.file, t.name));
    const r = checkTensor(q.file, q.bytes, t.name, ref);
    if (!r) continue;
    const name = quantNameOf(t.type)!;
    const prev = seen.get(name) ?? { worst: 0, rms: 0, blocks: 0 };
    seen.set(name, { worst: Math.max(prev.worst, r.worst), rms: Math.max(prev.rms, r.rms), blocks: prev.blocks + r.blocks });
  }
  for (const [name, r] of seen) {
    expect(r.worst, `${quantized} ${name}: worst error in steps`).toBeLessThanOrEqual(STEP_BOUND[name]);
    expect(r.rms, `${quantized} ${name}: relative RMS error`).toBeLessThan(RMS_BOUND[name]);
  }
  return seen;
}

describe('ggml dequantizers on files llama.cpp quantized', () => {
  it.each(['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1'])('stories260K-%s is stories260K up to its quantization error', (type) => {
    const seen = checkFile(`quantized/stories260K-${type}.gguf`, 'stories260K.gguf');
    if (process.env.TSUGIKI_PRINT) console.log(type, Object.fromEntries([...seen].map(([k, v]) => [k, `worst ${v.worst.toFixed(3)} steps, rms ${v.rms.toFixed(4)}, ${v.blocks} blocks`])));
    expect(seen.has(type.toLowerCase() as QuantName)).toBe(true);
  });

  it.each(['Q2_K', 'Q3_K_M', 'Q4_K_M', 'Q5_K_M', 'Q6_K'])('k256-random-%s is k256-random-F32 up to its quantization error', (type) => {
    const seen = checkFile(`quantized/k256-random-${type}.gguf`, 'quantized/k256-random-F32.gguf');
    expect(seen.has(type.slice(0, 4).toLowerCase() as QuantName)).toBe(true);
    if (process.env.TSUGIKI_PRINT) console.log(type, Object.fromEntries([...seen].map(([k, v]) => [k, `worst ${v.worst.toFixed(3)} steps, rms ${v.rms.toFixed(4)}, ${v.blocks} blocks`])));
  });
});
