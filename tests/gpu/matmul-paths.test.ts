import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuAdapter } from '../../src/gpu/device.ts';
import { DIRECT_MAX_K, gemmPlan, linearBackwardInput, linearBackwardWeight, linearForward, matmul } from '../../src/kernels/matmul.ts';
import { dropoutKeep } from '../../src/kernels/lora.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { weightTensor } from '../helpers/matmul-weights.ts';
import { maxRelError, randomArray } from '../helpers/numeric.ts';
import { linearDwRef, linearDxRef, linearRef, matmulRef } from '../reference/matmul.ts';

// f32 sums of ≤ 300 products: error ≲ K·2^-24 of the terms' magnitude (as in matmul.test.ts).
const TOL = 2e-5;
const FLOOR = 1;

const mask = (seed: number, p: number, count: number) =>
  Float64Array.from({ length: count }, (_, i) => (dropoutKeep(seed, i, p) ? 1 / (1 - p) : 0));

describe('matmul kernel choice', () => {
  it('runs short contractions and R-wide products on the direct kernel, the rest tiled', () => {
    expect(gemmPlan(1536, 64, 64)).toEqual({ direct: true, tx: 8, tileM: 64, tileN: 64 });
    expect(gemmPlan(1536, 200, 64)).toEqual({ direct: true, tx: 16, tileM: 32, tileN: 128 });
    expect(gemmPlan(1536, 8, 64)).toEqual({ direct: true, tx: 1, tileM: 512, tileN: 8 });
    expect(gemmPlan(8, 64, 1536).direct).toBe(true);
    expect(gemmPlan(1, 3, 1)).toEqual({ direct: true, tx: 1, tileM: 512, tileN: 8 });
    expect(gemmPlan(512, 512, DIRECT_MAX_K - 1).direct).toBe(true);
    expect(gemmPlan(512, 512, DIRECT_MAX_K)).toEqual({ direct: false, tx: 16, tileM: 64, tileN: 64 });
  });

  it('runs long contractions direct on a CPU adapter, tiled on the others', async () => {
    expect(gemmPlan(512, 512, DIRECT_MAX_K, 'direct')).toEqual({ direct: true, tx: 16, tileM: 32, tileN: 128 });
    const summary = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' };
    expect(cpuAdapter({ ...(await testGpu()).adapter, ...summary })).toBe(true);
    expect(cpuAdapter({ ...(await testGpu()).adapter, vendor: 'nvidia', architecture: 'ada', device: '', description: 'NVIDIA GeForce RTX 4090' })).toBe(false);
  });
});

// Long contractions (K ≥ 256, both output sides > 16) on either kernel: tiled on GPUs, direct on CPU adapters.
describe.each(['tiled', 'direct'] as const)('long products on the %s kernel', (long) => {
  let kept: 'tiled' | 'direct' = 'tiled';
  beforeAll(async () => {
    const gpu = await testGpu();
    kept = gpu.longMatmul;
    gpu.longMatmul = long;
  });
  afterAll(async () => {
    (await testGpu()).longMatmul = kept;
  });

  it('matches the references in every linear form, with bias, accumulate and dropout', async () => {
    const gpu = await testGpu();
    const [m, n, k] = [37, 53, 300];
    expect(gemmPlan(m, n, k, long).direct).toBe(long === 'direct');
    const drop = { p: 0.25, seed: 5 };
    const x = randomArray(m * k, 41);
    const { t: w, exact } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, 42), 'bf16');
    const bias = randomArray(n, 43);
    const y = emptyTensor(gpu, 'test.y', [m, n]);
    const yd = emptyTensor(gpu, 'test.yd', [m, n]);
    // dX [M2, K] = dY [M2, N2] · W2 [N2, K] with N2 = 300 and dropout on the result.
    const dy2 = randomArray(m * k, 44);
    const w2 = randomArray(k * n, 45);
    const dx = emptyTensor(gpu, 'test.dx', [m, n]);
    // dW [N, K2] += dYᵀ · drop(x) over M3 = 300 rows.
    const [m3, k3] = [300, 29];
    const dy3 = randomArray(m3 * n, 46);
    const x3 = randomArray(m3 * k3, 47);
    const dw0 = randomArray(n * k3, 48);
    const dw = f32Tensor(gpu, 'test.dw', [n, k3], dw0);
    const tx = f32Tensor(gpu, 'test.x', [m, k], x);
    const [gotY, gotYd, gotDx, gotDw] = await run(gpu, (rec) => {
      linearForward(rec, { x: tx, w, bias: f32Tensor(gpu, 'test.b', [n], bias), y, alpha: 0.5 });
      linearForward(rec, { x: tx, w, y: yd, dropout: drop });
      linearBackwardInput(rec, { dy: f32Tensor(gpu, 'test.dy2', [m, k], dy2), w: f32Tensor(gpu, 'test.w2', [k, n], w2), dx, dropout: drop });
      linearBackwardWeight(rec, { dy: f32Tensor(gpu, 'test.dy3', [m3, n], dy3), x: f32Tensor(gpu, 'test.x3', [m3, k3], x3), dw, dropout: drop });
    }, y, yd, dx, dw);
    expect(maxRelError(gotY, linearRef(x, exact, m, n, k, bias, 0.5), FLOOR)).toBeLessThan(TOL);
    const xm = mask(drop.seed, drop.p, m * k);
    expect(maxRelError(gotYd, linearRef(x.map((v, i) => v * xm[i]), exact, m, n, k), FLOOR)).toBeLessThan(TOL);
    const dxm = mask(drop.seed, drop.p, m * n);
    expect(maxRelError(gotDx, linearDxRef(dy2, w2, m, k, n).map((v, i) => v * dxm[i]), FLOOR)).toBeLessThan(TOL);
    const x3m = mask(drop.seed, drop.p, m3 * k3);
    expect(maxRelError(gotDw, linearDwRef(dy3, x3.map((v, i) => v * x3m[i]), m3, n, k3).map((v, i) => v + dw0[i]), FLOOR)).toBeLessThan(TOL);
  });

  it('computes batched products in every transpose combination', async () => {
    const gpu = await testGpu();
    const [batch, m, n, k] = [2, 21, 19, 260];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = randomArray(batch * m * k, 51);
        const b = randomArray(batch * k * n, 52);
        const ta = f32Tensor(gpu, 'test.a', transA ? [batch, k, m] : [batch, m, k], a);
        const tb = f32Tensor(gpu, 'test.b', transB ? [batch, n, k] : [batch, k, n], b);
        const c0 = randomArray(batch * m * n, 53);
        const c = f32Tensor(gpu, 'test.c', [batch, m, n], c0);
        const [got] = await run(gpu, (rec) => matmul(rec, { a: ta, b: tb, c, transA, transB, accumulate: true }), c);
        const ref = matmulRef(a, b, batch, m, n, k, transA, transB, false).map((v, i) => v + c0[i]);
        expect(maxRelError(got, ref, FLOOR), `transA=${transA} transB=${transB}`).toBeLessThan(TOL);
      }
    }
  });
});

describe('direct kernel edges', () => {
  it('handles an output far wider than a tile row and a K just under the switch, with bias and accumulate', async () => {
    const gpu = await testGpu();
    const [m, n, k] = [5, 131, DIRECT_MAX_K - 1];
    expect(gemmPlan(m, n, k, gpu.longMatmul).direct).toBe(true);
    const x = randomArray(m * k, 61);
    const { t: w, exact } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, 62), 'f16');
    const bias = randomArray(n, 63);
    const y0 = randomArray(m * n, 64);
    const y = f32Tensor(gpu, 'test.y', [m, n], y0);
    const [got] = await run(gpu, (rec) => linearForward(rec, { x: f32Tensor(gpu, 'test.x', [m, k], x), w, bias: f32Tensor(gpu, 'test.b', [n], bias), y, accumulate: true }), y);
    expect(maxRelError(got, linearRef(x, exact, m, n, k, bias).map((v, i) => v + y0[i]), FLOOR)).toBeLessThan(TOL);
  });
});
