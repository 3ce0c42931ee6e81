/**
 * The rows kernel (shaders/matmul_rows.wgsl): x·Wᵀ of M ≤ 8 rows, the products of token-by-token
 * generation, on every weight dtype (quantized blocks written by llama.cpp's quantizer) against
 * float64 references on the exact (dequantized) weights, at K and N that are not multiples of the
 * kernel's steps; both thread layouts (one thread per four columns on CPU adapters, a workgroup
 * reduction on GPUs); bias, alpha, accumulate and row windows; and which products it is given.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { quantBlock, QUANT_NAMES, type QuantName } from '../../src/io/ggml-types.ts';
import { linearForward, matmul } from '../../src/kernels/matmul.ts';
import { ROWS_MAX_M, rowsThreadsK } from '../../src/kernels/matmul-rows.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { weightTensor } from '../helpers/matmul-weights.ts';
import { randomArray, relToMax } from '../helpers/numeric.ts';
import { blocksOf, quantWeight } from '../helpers/quant-blocks.ts';
import { linearRef } from '../reference/matmul.ts';

// f32 sums of ≤ 512 products against float64, relative to the output's scale (as matmul-quant.test.ts).
const VS_F64 = 2e-5;
const DTYPES = ['f32', 'f16', 'bf16', ...QUANT_NAMES] as const;
type WeightType = (typeof DTYPES)[number];

/** [N, K]: float rows need no whole blocks (K % 4 = 3 reaches the one-element tail). */
function dims(type: WeightType): [number, number] {
  if (type === 'f32' || type === 'f16' || type === 'bf16') return [37, 203];
  return quantBlock(type as QuantName).blockSize === 32 ? [37, 160] : [13, 512];
}

function upload(gpu: Awaited<ReturnType<typeof testGpu>>, type: WeightType, n: number, k: number, seed: number): { t: Tensor; exact: Float64Array } {
  if (type === 'f32' || type === 'f16' || type === 'bf16') return weightTensor(gpu, `test.w.${type}`, [n, k], randomArray(n * k, seed), type);
  return quantWeight((shape, dtype, raw) => gpu.pool.upload(`test.w.${dtype}`, shape, dtype, raw), type, blocksOf(type), n, k);
}

describe('x·Wᵀ of a few rows on the rows kernel', () => {
  it('runs forward products of M ≤ 8 rows (1 on CPU adapters) without dropout on it, the rest on the general kernels', async () => {
    const gpu = await testGpu();
    const w = f32Tensor(gpu, 'test.w', [16, 32], randomArray(16 * 32, 1));
    const entries = (m: number, extra: Partial<Parameters<typeof linearForward>[1]> = {}) => {
      const rec = gpu.recorder('test.route');
      const spy = vi.spyOn(rec, 'dispatch');
      linearForward(rec, { x: emptyTensor(gpu, 'test.x', [m, 32]), w, y: emptyTensor(gpu, 'test.y', [m, 16]), ...extra });
      const names = spy.mock.calls.map(([d]) => d.pipeline.entry);
      rec.destroy();
      return names;
    };
    const kept = gpu.longMatmul;
    try {
      gpu.longMatmul = 'tiled';
      expect(ROWS_MAX_M).toBe(8);
      expect(entries(1)).toEqual(['matmul_rows']);
      expect(entries(8, { alpha: 2, accumulate: true })).toEqual(['matmul_rows']);
      // 16 × 32 is aligned: the general kernel is the direct one reading four elements at a time.
      expect(entries(9)).toEqual(['matmul_vec4']);
      expect(entries(4, { dropout: { p: 0.1, seed: 3 } })).toEqual(['matmul_vec4']);
      expect(entries(4, { dropout: { p: 0, seed: 3 } })).toEqual(['matmul_rows']);
      gpu.longMatmul = 'direct';
      expect(entries(1)).toEqual(['matmul_rows']);
      expect(entries(2)).toEqual(['matmul_vec4']);
      gpu.rowsMatmul = false;
      expect(entries(1)).toEqual(['matmul_vec4']);
    } finally {
      gpu.rowsMatmul = true;
      gpu.longMatmul = kept;
    }
    // Threads along K: one on CPU adapters; on GPUs up to 64, each with ≥ 16 float elements or one 32-element chunk.
    expect([8, 64, 203, 512, 2048].map((k) => rowsThreadsK(k, false, 'tiled'))).toEqual([1, 4, 16, 32, 64]);
    expect([32, 160, 512, 2048, 4096].map((k) => rowsThreadsK(k, true, 'tiled'))).toEqual([1, 8, 16, 64, 64]);
    expect(rowsThreadsK(2048, true, 'direct')).toBe(1);
  });

  // Two pipelines per dtype (~1 s each to build on SwiftShader): the single-row kernel and the
  // kernel of up to 8 rows. M = 1 runs with one thread per column (CPU adapters) for every other
  // dtype, with the workgroup reduction (GPUs) for the rest; M = 3 and 8 always reduce (on CPU
  // adapters they stay on the general kernels). Features in turn: plain (generation's), bias
  // with alpha, or adding into y.
  it.each(DTYPES.map((t, i) => [t, i] as const))('%s weights at M = 1, 3, 8 equal the float64 reference', async (type, index) => {
    const gpu = await testGpu();
    const [n, k] = dims(type);
    const w = upload(gpu, type, n, k, 10 + index);
    const kept = gpu.longMatmul;
    const feature = (['plain', 'bias', 'accumulate'] as const)[index % 3];
    try {
      for (const m of [1, 3, 8]) {
        gpu.longMatmul = m === 1 && index % 2 === 0 ? 'direct' : 'tiled';
        const input = randomArray(m * k, 100 * index + m);
        const x = f32Tensor(gpu, 'test.x', [m, k], input);
        const bias = feature === 'bias' ? randomArray(n, 7) : undefined;
        const y0 = feature === 'accumulate' ? randomArray(m * n, 8) : new Float64Array(m * n);
        const y = f32Tensor(gpu, 'test.y', [m, n], y0);
        const b = bias && f32Tensor(gpu, 'test.bias', [n], bias);
        const alpha = feature === 'bias' ? 0.5 : 1;
        const [got] = await run(gpu, (rec) => linearForward(rec, { x, w: w.t, y, bias: b, alpha, accumulate: feature === 'accumulate' }), y);
        const want = linearRef(input, w.exact, m, n, k, bias, alpha).map((v, i) => v + y0[i]);
        expect(relToMax(got, want), `${type} M=${m} ${gpu.longMatmul} ${feature}`).toBeLessThan(VS_F64);
        for (const t of [x, y, b]) if (t) gpu.pool.releaseTensor(t);
      }
    } finally {
      gpu.longMatmul = kept;
      gpu.pool.releaseTensor(w.t);
    }
  });

  it('writes each row window of a split weight into its columns of y, and serves matmul with a [N, K] b', async () => {
    const gpu = await testGpu();
    const [m, k, rows] = [2, 96, [20, 17]];
    const n = rows[0] + rows[1];
    const values = randomArray(n * k, 31);
    const wins = rows.map((r, i) => gpu.pool.upload(`test.win${i}`, [r, k], 'f32', Float32Array.from(values.subarray(i ? rows[0] * k : 0, (i ? n : rows[0]) * k))));
    const w: Tensor = { ...wins[0], label: 'test.windowed', shape: [n, k], rowWindows: wins };
    const input = randomArray(m * k, 32);
    const bias = randomArray(n, 33);
    const x = f32Tensor(gpu, 'test.x', [m, k], input);
    const y = emptyTensor(gpu, 'test.y', [m, n]);
    const c = emptyTensor(gpu, 'test.c', [m, n]);
    const whole = f32Tensor(gpu, 'test.whole', [n, k], values);
    const kept = gpu.longMatmul;
    gpu.longMatmul = 'tiled';
    const [gotY, gotC] = await run(gpu, (rec) => {
      linearForward(rec, { x, w, y, bias: f32Tensor(gpu, 'test.bias', [n], bias) });
      matmul(rec, { a: x, b: whole, c, transB: true, alpha: 2 });
    }, y, c).finally(() => (gpu.longMatmul = kept));
    expect(relToMax(gotY, linearRef(input, values, m, n, k, bias))).toBeLessThan(VS_F64);
    expect(relToMax(gotC, linearRef(input, values, m, n, k, undefined, 2))).toBeLessThan(VS_F64);
  });
});
