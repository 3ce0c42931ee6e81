import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import type { DType, Tensor } from '../../src/gpu/tensor.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';
import { embeddingLookup, positionEmbeddingAdd } from '../../src/kernels/embedding.ts';
import { emptyTensor, run, testGpu } from '../helpers/gpu.ts';
import { randomArray, rng } from '../helpers/numeric.ts';
import { embeddingAddRef, embeddingLookupRef } from '../reference/embedding.ts';

// N=37 rows, V=29 table rows, C=53 channels: odd, so f16/bf16 rows straddle 32-bit words.
const N = 37;
const V = 29;
const C = 53;

/** A [rows, C] table uploaded in `dtype`, and its values as the GPU will decode them. */
function table(gpu: Gpu, label: string, rows: number, dtype: DType, seed: number): { t: Tensor; values: Float64Array } {
  const f32 = Float32Array.from(randomArray(rows * C, seed));
  if (dtype === 'f32') return { t: gpu.pool.upload(label, [rows, C], 'f32', f32), values: Float64Array.from(f32) };
  const bits = dtype === 'f16' ? f32ToF16(f32) : f32ToBf16(f32);
  const decoded = dtype === 'f16' ? f16ToF32(bits) : bf16ToF32(bits);
  return { t: gpu.pool.upload(label, [rows, C], dtype, bits), values: Float64Array.from(decoded) };
}

/** Ids uniform in [0, limit), with out-of-range ones at a few rows. */
function ids(n: number, limit: number, seed: number): Int32Array {
  const r = rng(seed);
  const out = Int32Array.from({ length: n }, () => Math.floor(r() * limit));
  [-1, limit, 2147483647, -2147483648].forEach((bad, k) => (out[3 + 8 * k] = bad));
  return out;
}

describe('embedding lookup on the GPU', () => {
  for (const dtype of ['f32', 'f16', 'bf16'] as const) {
    it(`copies ${dtype} table rows exactly and writes zeros for ids outside [0, V)`, async () => {
      const gpu = await testGpu();
      const tab = table(gpu, `test.wte.${dtype}`, V, dtype, 1);
      const tokenIds = ids(N, V, 2);
      const tIds = gpu.pool.upload('test.ids', [N], 'i32', tokenIds);
      const out = emptyTensor(gpu, 'test.out', [N, C]);
      gpu.pool.write(out, new Float32Array(N * C).fill(7)); // stale values must be overwritten
      const [y] = await run(gpu, (rec) => embeddingLookup(rec, tIds, tab.t, out), out);
      // A gather does no arithmetic: the decoded weights come back bit for bit.
      expect(Array.from(y)).toEqual(Array.from(embeddingLookupRef(tokenIds, tab.values, V, C)));
      expect(y.subarray(3 * C, 4 * C).every((v) => v === 0)).toBe(true);
      expect(y.subarray(27 * C, 28 * C).every((v) => v === 0)).toBe(true);
    });
  }

  it('adds learned positions from a second table of another dtype, positions not starting at 0', async () => {
    const gpu = await testGpu();
    const [B, T, P] = [3, 13, 41];
    const wte = table(gpu, 'test.wte', V, 'bf16', 3);
    const wpe = table(gpu, 'test.wpe', P, 'f16', 4);
    const tokenIds = ids(B * T, V, 5);
    // Each sequence continues from a different past length; one position is out of range.
    const positions = Int32Array.from({ length: B * T }, (_, i) => [0, 7, 28][Math.floor(i / T)] + (i % T));
    positions[B * T - 1] = P;
    const tIds = gpu.pool.upload('test.ids', [B, T], 'i32', tokenIds);
    const tPos = gpu.pool.upload('test.positions', [B, T], 'i32', positions);
    const out = emptyTensor(gpu, 'test.out', [B, T, C]);
    const [y] = await run(
      gpu,
      (rec) => {
        embeddingLookup(rec, tIds, wte.t, out);
        positionEmbeddingAdd(rec, tPos, wpe.t, out);
      },
      out,
    );
    const ref = embeddingAddRef(positions, wpe.values, P, C, embeddingLookupRef(tokenIds, wte.values, V, C));
    // One f32 addition of two exactly decoded values: the f32 rounding of the float64 sum.
    expect(Array.from(y)).toEqual(Array.from(ref, Math.fround));
    const last = (B * T - 1) * C;
    expect(Array.from(y.subarray(last, last + C))).toEqual(Array.from(wte.values.subarray(tokenIds[B * T - 1] * C, (tokenIds[B * T - 1] + 1) * C)));
  });

  it('refuses wrong dtypes and shapes before encoding', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const idsF32 = emptyTensor(gpu, 'test.idsf', [N]);
    const idsI32 = emptyTensor(gpu, 'test.idsi', [N], 'i32');
    const tab = emptyTensor(gpu, 'test.wte', [V, C], 'f16');
    const tabU32 = emptyTensor(gpu, 'test.wteu', [V, C], 'u32');
    const out = emptyTensor(gpu, 'test.out', [N, C]);
    expect(() => embeddingLookup(rec, idsF32, tab, out)).toThrow(/embedding: ids is test.idsf f32\[37\] but one of i32 is needed/);
    expect(() => embeddingLookup(rec, idsI32, tabU32, out)).toThrow(/the table is test.wteu u32\[29, 53\] but a \[V, C\] table of f32, f16, bf16 or a quantized type/);
    expect(() => positionEmbeddingAdd(rec, idsI32, emptyTensor(gpu, 'test.wpe', [V, C + 1]), out)).toThrow(
      /position embedding: out is test.out f32\[37, 53\] but \[37, 54\] is needed/,
    );
    expect(rec.length).toBe(0);
  });
});
