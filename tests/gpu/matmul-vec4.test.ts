/**
 * The direct matmul's vec4 entry point (shaders/matmul_vec4.wgsl) against float64 references in
 * every storage order it serves, at aligned shapes that are not multiples of the 8×8 micro-tile
 * (so vectors of rows or columns straddle or lie past the edge), with bias, alpha, accumulate,
 * dropout at each place, split-K, batches and f16/bf16 weights. Each case also checks that the
 * vec4 entry point is the one that ran.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import type { PipelineKey } from '../../src/gpu/pipelines.ts';
import { dropoutKeep } from '../../src/kernels/lora.ts';
import { linearBackwardInput, linearBackwardWeight, linearForward, matmul, splitScratchElements, vec4Aligned } from '../../src/kernels/matmul.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { weightTensor } from '../helpers/matmul-weights.ts';
import { maxRelError, randomArray } from '../helpers/numeric.ts';
import { linearDwRef, linearDxRef, linearRef, matmulRef } from '../reference/matmul.ts';

const TOL = 2e-5;
const FLOOR = 1;
const drop = { p: 0.25, seed: 9 };
const mask = (count: number) => Float64Array.from({ length: count }, (_, i) => (dropoutKeep(drop.seed, i, drop.p) ? 1 / (1 - drop.p) : 0));

/** Entry points of the pipelines the recorded work asked for. */
const entries: string[] = [];
let gpu: Gpu;

beforeAll(async () => {
  gpu = await testGpu();
  const get = gpu.pipelines.get.bind(gpu.pipelines);
  gpu.pipelines.get = (key: PipelineKey) => {
    entries.push(key.entry);
    return get(key);
  };
});

async function ranOnVec4<T>(work: () => Promise<T>): Promise<T> {
  entries.length = 0;
  const out = await work();
  expect(entries).toContain('matmul_vec4');
  expect(entries).not.toContain('matmul_direct');
  return out;
}

describe('vec4 alignment', () => {
  const base = { m: 8, n: 8, k: 8, transA: false, transB: true, bBatchStride: 0 };
  it('needs K, N, leading dimensions, offsets and strides in multiples of 4', () => {
    expect(vec4Aligned(base)).toBe(true);
    expect(vec4Aligned({ ...base, k: 6 })).toBe(false);
    expect(vec4Aligned({ ...base, m: 5 })).toBe(true); // A_T = 0: rows load their own vectors
    expect(vec4Aligned({ ...base, m: 5, transA: true })).toBe(false);
    expect(vec4Aligned({ ...base, n: 12 })).toBe(true); // N a multiple of 4, not of the tile's 8
    expect(vec4Aligned({ ...base, n: 7 })).toBe(false); // C is written four columns at a time
    expect(vec4Aligned({ ...base, ldc: 10 })).toBe(false);
    expect(vec4Aligned({ ...base, cOffset: 6 })).toBe(false);
    expect(vec4Aligned({ ...base, lda: 10 })).toBe(false);
    expect(vec4Aligned({ ...base, aOffset: 2 })).toBe(false);
    expect(vec4Aligned({ ...base, bBatchStride: 66 })).toBe(false);
  });
});

describe.each(['f32', 'f16', 'bf16'] as const)('vec4 direct kernel, %s weights', (dtype) => {
  it('x·Wᵀ with bias, alpha, accumulate and dropout on x', async () => {
    const [m, n, k] = [37, 52, 92];
    const x = randomArray(m * k, 1);
    const { t: w, exact } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, 2), dtype);
    const bias = randomArray(n, 3);
    const y0 = randomArray(m * n, 4);
    const tx = f32Tensor(gpu, 'test.x', [m, k], x);
    const y = f32Tensor(gpu, 'test.y', [m, n], y0);
    const yd = emptyTensor(gpu, 'test.yd', [m, n]);
    const [gotY, gotYd] = await ranOnVec4(() => run(gpu, (rec) => {
      linearForward(rec, { x: tx, w, bias: f32Tensor(gpu, 'test.b', [n], bias), y, alpha: 0.5, accumulate: true });
      linearForward(rec, { x: tx, w, y: yd, dropout: drop });
    }, y, yd));
    expect(maxRelError(gotY, linearRef(x, exact, m, n, k, bias, 0.5).map((v, i) => v + y0[i]), FLOOR)).toBeLessThan(TOL);
    const xm = mask(m * k);
    expect(maxRelError(gotYd, linearRef(x.map((v, i) => v * xm[i]), exact, m, n, k), FLOOR)).toBeLessThan(TOL);
  });

  it('dY·W with dropout on the result (columns past the edge of a multiple of 4)', async () => {
    // W [N, K] with K = 44: the last micro-tile column holds 4 valid columns of 8.
    const [m, n, k] = [13, 60, 44];
    const dy = randomArray(m * n, 5);
    const { t: w, exact } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, 6), dtype);
    const dx = emptyTensor(gpu, 'test.dx', [m, k]);
    const [got] = await ranOnVec4(() => run(gpu, (rec) => linearBackwardInput(rec, { dy: f32Tensor(gpu, 'test.dy', [m, n], dy), w, dx, dropout: drop }), dx));
    const dm = mask(m * k);
    expect(maxRelError(got, linearDxRef(dy, exact, m, n, k).map((v, i) => v * dm[i]), FLOOR)).toBeLessThan(TOL);
  });
});

describe('vec4 direct kernel, f32 products', () => {
  it('dYᵀ·x accumulates into dW with dropout on x, in one pass and split along K', async () => {
    // dW [N, K] over M rows: the kernel's rows are N = 28 (a multiple of 4, not of 8).
    const [m, n, k] = [200, 28, 20];
    const dy = randomArray(m * n, 7);
    const x = randomArray(m * k, 8);
    const dw0 = randomArray(n * k, 9);
    const dw = f32Tensor(gpu, 'test.dw', [n, k], dw0);
    const dws = f32Tensor(gpu, 'test.dws', [n, k], dw0);
    const tdy = f32Tensor(gpu, 'test.dy', [m, n], dy);
    const tx = f32Tensor(gpu, 'test.x', [m, k], x);
    const scratch = emptyTensor(gpu, 'test.scratch', [splitScratchElements(n, k)]);
    const [got, gotSplit] = await ranOnVec4(() => run(gpu, (rec) => {
      linearBackwardWeight(rec, { dy: tdy, x: tx, dw, dropout: drop });
      linearBackwardWeight(rec, { dy: tdy, x: tx, dw: dws, dropout: drop, scratch });
    }, dw, dws));
    expect(entries.some((e) => e === 'matmul_reduce')).toBe(true);
    const xm = mask(m * k);
    const ref = linearDwRef(dy, x.map((v, i) => v * xm[i]), m, n, k).map((v, i) => v + dw0[i]);
    expect(maxRelError(got, ref, FLOOR)).toBeLessThan(TOL);
    expect(maxRelError(gotSplit, ref, FLOOR)).toBeLessThan(TOL);
  });

  it('computes batched products in every transpose combination, b per batch or shared', async () => {
    const [batch, m, n, k] = [3, 12, 20, 36];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const shared of [false, true]) {
          const a = randomArray(batch * m * k, 10);
          const b = randomArray((shared ? 1 : batch) * k * n, 11);
          const bShape = transB ? [n, k] : [k, n];
          const ta = f32Tensor(gpu, 'test.a', transA ? [batch, k, m] : [batch, m, k], a);
          const tb = f32Tensor(gpu, 'test.b', shared ? bShape : [batch, ...bShape], b);
          const c = emptyTensor(gpu, 'test.c', [batch, m, n]);
          const [got] = await ranOnVec4(() => run(gpu, (rec) => matmul(rec, { a: ta, b: tb, c, transA, transB, alpha: 2 }), c));
          const ref = matmulRef(a, b, batch, m, n, k, transA, transB, shared).map((v) => 2 * v);
          expect(maxRelError(got, ref, FLOOR), `transA=${transA} transB=${transB} shared=${shared}`).toBeLessThan(TOL);
        }
      }
    }
  });
});
