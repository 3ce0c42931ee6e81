/**
 * The quantizers against llama.cpp's own quantizer: every F32 tensor of a source file, quantized
 * here, must equal byte for byte the tensor llama-quantize wrote of the same type
 * (shared/data/models/quantized, written by node-llama-cpp 3.21.1's libllama without an imatrix).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ggufTensorBytes, ggufTensorToF32, parseGguf, type GgufFile } from '../../src/io/gguf.ts';
import { encodeTensor, GGML_Q4_K, GGML_Q5_0, GGML_Q6_K, GGML_Q8_0, quantizeQ8_0 } from '../../src/io/ggml-quantize.ts';
import { f16BitsToF32 } from '../../src/io/halfs.ts';

const DIR = new URL('../../../shared/data/models/', import.meta.url).pathname;

function open(name: string): { file: GgufFile; bytes: Uint8Array } {
  const bytes = new Uint8Array(readFileSync(DIR + name));
  return { file: parseGguf(bytes, name), bytes };
}

/** For each tensor of `type` in the quantized file: how many bytes differ from ours. */
function compare(source: string, quantized: string, type: number): { tensors: number; bytes: number; differing: number } {
  const src = open(source);
  const q = open(quantized);
  let tensors = 0, bytes = 0, differing = 0;
  for (const t of q.file.tensors) {
    if (t.type !== type) continue;
    const s = src.file.tensors.find((x) => x.name === t.name);
    if (!s) throw new Error(`${source} has no tensor ${t.name}`);
    const ours = encodeTensor(ggufTensorToF32(src.file, src.bytes, s), s.dims[0], type, t.name);
    const theirs = ggufTensorBytes(q.file, q.bytes, t);
    expect(ours.length, t.name).toBe(theirs.length);
    for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing++;
    tensors++;
    bytes += ours.length;
  }
  return { tensors, bytes, differing };
}

describe('ggml quantizers equal llama.cpp byte for byte', () => {
  it('Q8_0 (stories260K)', () => {
    const r = compare('stories260K.gguf', 'quantized/stories260K-Q8_0.gguf', GGML_Q8_0);
    expect(r.tensors).toBeGreaterThan(20);
    expect(r.differing).toBe(0);
  });
  it('Q5_0 (stories260K)', () => {
    const r = compare('stories260K.gguf', 'quantized/stories260K-Q5_0.gguf', GGML_Q5_0);
    expect(r.tensors).toBeGreaterThan(10);
    expect(r.differing).toBe(0);
  });
  it('Q6_K (k256, every weight)', () => {
    const r = compare('quantized/k256-random-F32.gguf', 'quantized/k256-random-Q6_K.gguf', GGML_Q6_K);
    expect(r.tensors).toBeGreaterThan(10);
    expect(r.differing).toBe(0);
  });
  it('Q4_K and Q6_K in the Q4_K_M mix (k256)', () => {
    const q4 = compare('quantized/k256-random-F32.gguf', 'quantized/k256-random-Q4_K_M.gguf', GGML_Q4_K);
    const q6 = compare('quantized/k256-random-F32.gguf', 'quantized/k256-random-Q4_K_M.gguf', GGML_Q6_K);
    expect(q4.tensors).toBeGreaterThan(10);
    expect(q6.tensors).toBe(3);
    expect(q4.differing).toBe(0);
    expect(q6.differing).toBe(0);
  });
});

describe('quantizer edge cases', () => {
  it('an all-zero Q8_0 block has d = 0 and zero quants; values round half away from zero', () => {
    const x = new Float32Array(64);
    for (let j = 0; j < 32; j++) x[32 + j] = (j - 16) / 16 * 127 / 127;
    const q = quantizeQ8_0(x);
    expect(Array.from(q.subarray(0, 34)).every((b) => b === 0)).toBe(true);
    const d = f16BitsToF32(q[34] | (q[35] << 8));
    expect(d).toBeCloseTo(1 / 127, 4);
    expect(new Int8Array(q.buffer, 36, 32)[0]).toBe(-127);
  });
  it('rows that are not whole blocks are refused with the tensor named', () => {
    expect(() => encodeTensor(new Float32Array(172), 172, GGML_Q8_0, 'blk.0.ffn_down.weight')).toThrow(/blk\.0\.ffn_down\.weight.*172/);
  });
});
