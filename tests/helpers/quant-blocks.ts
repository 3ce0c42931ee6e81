import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { dequantize } from '../../src/io/ggml-dequant.ts';
import { quantBlock, quantNameOf, type QuantName } from '../../src/io/ggml-types.ts';
import { ggufTensorBytes, parseGguf } from '../../src/io/gguf.ts';

const DIR = new URL('../../../shared/data/models/quantized/', import.meta.url);
/** A file written by llama.cpp's quantizer whose token embedding is in each type. */
const SOURCE: Record<QuantName, string> = {
  q4_0: 'stories260K-Q4_0', q4_1: 'stories260K-Q4_1', q5_0: 'stories260K-Q5_0', q5_1: 'stories260K-Q5_1', q8_0: 'stories260K-Q8_0',
  q2_k: 'k256-random-Q2_K', q3_k: 'k256-random-Q3_K_M', q4_k: 'k256-random-Q4_K_M', q5_k: 'k256-random-Q5_K_M', q6_k: 'k256-random-Q6_K',
};

/** The blocks of the file's token embedding (whole blocks of one type; any run of blocks is valid data). */
export function blocksOf(type: QuantName): Uint8Array {
  const bytes = new Uint8Array(readFileSync(new URL(`${SOURCE[type]}.gguf`, DIR)));
  const file = parseGguf(bytes, SOURCE[type]);
  const t = file.tensors.find((info) => info.name === 'token_embd.weight')!;
  expect(quantNameOf(t.type)).toBe(type);
  return ggufTensorBytes(file, bytes, t);
}

/** A quantized [rows, cols] weight from the first blocks, and its exact (float64) values. */
export function quantWeight(gpuUpload: (shape: number[], dtype: QuantName, raw: Uint8Array) => Tensor, type: QuantName, blocks: Uint8Array, rows: number, cols: number) {
  const { blockSize, typeSize } = quantBlock(type);
  const raw = blocks.slice(0, (rows * cols / blockSize) * typeSize);
  expect(raw.length).toBe((rows * cols / blockSize) * typeSize);
  return { t: gpuUpload([rows, cols], type, raw), exact: dequantize(type, raw, rows * cols) };
}
