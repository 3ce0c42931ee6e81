import { describe, expect, it } from 'vitest';
import { crossEntropyBackward, crossEntropyForward, crossEntropySum, ROWS_MAX_VOCAB } from '../../src/kernels/cross-entropy.ts';
import { crossEntropyBackwardRef, crossEntropyRef, logSumExpRef } from '../reference/cross-entropy.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { emptyTensor, f32Tensor, pathGpu, REDUCTION_PATHS, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, randomArray, relToMax, rng, sampleIndices } from '../helpers/numeric.ts';

/** Random logits [N, V] with a different offset per row (up to ±60) to exercise the stable log-sum-exp. */
function makeLogits(N: number, V: number, seed: number): Float64Array {
  const x = randomArray(N * V, seed, 4);
  for (let n = 0; n < N; n++) for (let v = 0; v < V; v++) x[n * V + v] = Math.fround(x[n * V + v] + (n % 3 === 0 ? 60 : -30 * (n % 2)));
  return x;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i]));
  return worst;
}

async function runCase(gpu: Gpu, N: number, V: number, targets: Int32Array, seed: number, scale: number) {
  const logits = makeLogits(N, V, seed);
  const tl = f32Tensor(gpu, 'test.logits', [N, V], logits);
  const tl2 = f32Tensor(gpu, 'test.logits2', [N, V], logits);
  const tt = gpu.pool.upload('test.targets', [N], 'i32', targets);
  const loss = emptyTensor(gpu, 'test.loss', [N]);
  const lse = emptyTensor(gpu, 'test.lse', [N]);
  const total = emptyTensor(gpu, 'test.total', [1]);
  const dl = emptyTensor(gpu, 'test.dlogits', [N, V]);
  const [gl, glse, gtotal, gd, ginplace] = await run(
    gpu,
    (rec) => {
      crossEntropyForward(rec, tl, tt, loss, lse);
      crossEntropySum(rec, loss, total);
      crossEntropyBackward(rec, tl2, tt, lse, dl, scale);
      crossEntropyBackward(rec, tl, tt, lse, tl, scale);
    },
    loss,
    lse,
    total,
    dl,
    tl,
  );
  return { logits, gl, glse, gtotal: gtotal[0], gd, ginplace };
}

describe('cross-entropy reference', () => {
  it('backward matches central finite differences of scale · Σ loss', () => {
    const N = 4;
    const V = 9;
    const x = randomArray(N * V, 5, 3);
    const targets = [3, -1, 0, 8];
    const scale = 1 / 3;
    const g = crossEntropyBackwardRef(x, targets, N, V, scale);
    const f = (xx: Float64Array) => scale * crossEntropyRef(xx, targets, N, V).reduce((s, l) => s + l, 0);
    const idx = sampleIndices(N * V, 36);
    const fd = finiteDifference(f, x, idx);
    // float64 central differences with h = 1e-5: truncation error ~1e-10.
    idx.forEach((i, k) => expect(g[i]).toBeCloseTo(fd[k], 8));
    for (let v = 0; v < V; v++) expect(g[V + v]).toBe(0);
  });
});

for (const path of REDUCTION_PATHS) {
  describe(`cross-entropy on the GPU (${path})`, () => {
    it('matches the reference at N = 7, V = 1000 with masked rows, in place and not', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const N = 7;
      const V = 1000;
      const targets = Int32Array.from([5, -1, 999, 0, -1, 417, 123]);
      const scale = 1 / 5;
      const r = await runCase(gpu, N, V, targets, 1, scale);
      const loss = crossEntropyRef(r.logits, targets, N, V);
      const lse = logSumExpRef(r.logits, N, V);
      // lse ≈ 60 + 7 in f32: ~4e-6 of rounding, plus the sum of 1000 exps; 2e-5 absolute.
      expect(maxAbsDiff(r.glse, lse)).toBeLessThan(2e-5);
      expect(maxAbsDiff(r.gl, loss)).toBeLessThan(2e-5);
      expect(r.gl[1]).toBe(0);
      expect(r.gl[4]).toBe(0);
      expect(r.gtotal).toBeCloseTo(loss.reduce((s, l) => s + l, 0), 4); // 7 rows, each within 2e-5
      const d = crossEntropyBackwardRef(r.logits, targets, N, V, scale);
      // Probabilities from exp(x − lse) in f32: error ≈ |x|·6e-8 relative, times scale; 2e-6 absolute.
      expect(maxAbsDiff(r.gd, d)).toBeLessThan(2e-6);
      expect(maxAbsDiff(r.ginplace, d)).toBeLessThan(2e-6);
      for (let v = 0; v < V; v++) expect(r.ginplace[4 * V + v]).toBe(0);
    });

    it('agrees on both sides of the thread-per-row switch with rows spread over several workgroups', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      for (const V of [ROWS_MAX_VOCAB, ROWS_MAX_VOCAB + 1]) {
        const N = 70;
        const targets = Int32Array.from({ length: N }, (_, n) => (n % 5 === 4 ? -1 : (n * 37) % V));
        const r = await runCase(gpu, N, V, targets, 4, 1 / 56);
        // lse ≈ 60 + 8 in f32 over ≈ 2k exps: a few e-6; 2e-5 absolute as above.
        expect(maxAbsDiff(r.glse, logSumExpRef(r.logits, N, V)), `V=${V}`).toBeLessThan(2e-5);
        expect(maxAbsDiff(r.gl, crossEntropyRef(r.logits, targets, N, V)), `V=${V}`).toBeLessThan(2e-5);
        expect(r.gl[4]).toBe(0);
      }
    });

    it("handles Qwen's vocabulary (V = 151,936) with N = 2", async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const N = 2;
      const V = 151936;
      const targets = Int32Array.from([151935, 42]);
      const r = await runCase(gpu, N, V, targets, 2, 1 / 2);
      const loss = crossEntropyRef(r.logits, targets, N, V);
      // A 152k-term f32 sum, reduced in a tree: ~1e-6 relative on the sum; lse ≈ 70, so 5e-5 absolute.
      expect(maxAbsDiff(r.gl, loss)).toBeLessThan(5e-5);
      expect(r.gtotal).toBeCloseTo(loss[0] + loss[1], 4);
      const d = crossEntropyBackwardRef(r.logits, targets, N, V, 1 / 2);
      expect(maxAbsDiff(r.ginplace, d)).toBeLessThan(2e-6);
      expect(maxAbsDiff(r.gd, d)).toBeLessThan(2e-6);
      // Each counted row's gradient sums to zero (softmax sums to one).
      const rowSum = r.gd.slice(0, V).reduce((s, g) => s + g, 0);
      expect(Math.abs(rowSum)).toBeLessThan(1e-4); // 152k f32 terms of size ≤ 1/2
    });

    it('gives NaN for a target outside the vocabulary so the step can be refused', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const r = await runCase(gpu, 3, 50, Int32Array.from([1, 50, -1]), 3, 1);
      expect(Number.isNaN(r.gl[1])).toBe(true);
      expect(Number.isNaN(r.gtotal)).toBe(true);
      expect(Number.isNaN(r.gd[50 + 7])).toBe(true);
      expect(Number.isFinite(r.gl[0])).toBe(true);
    });

    it('sums many rows into one number', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const N = 1000;
      const r = rng(9);
      const loss = Float64Array.from({ length: N }, () => Math.fround(r() * 5));
      const tl = f32Tensor(gpu, 'test.loss', [N], loss);
      const total = emptyTensor(gpu, 'test.total', [1]);
      const [t] = await run(gpu, (rec) => crossEntropySum(rec, tl, total), total);
      // 1000 f32 terms of size ≤ 5 summed in a tree: relative 1e-6.
      expect(Math.abs(t[0] - loss.reduce((s, l) => s + l, 0)) / 2500).toBeLessThan(1e-6);
    });
  });
}

describe('cross-entropy on the GPU', () => {
  it('refuses wrong shapes and dtypes before encoding anything', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const logits = emptyTensor(gpu, 'test.l', [3, 10]);
    const f32Targets = emptyTensor(gpu, 'test.t', [3]);
    const loss = emptyTensor(gpu, 'test.loss', [3]);
    expect(() => crossEntropyForward(rec, logits, f32Targets, loss, loss)).toThrow(/targets is test.t f32\[3\] but one of i32 is needed/);
    const targets = emptyTensor(gpu, 'test.t', [4], 'i32');
    expect(() => crossEntropyForward(rec, logits, targets, loss, loss)).toThrow(/targets is test.t i32\[4\] but \[3\] is needed/);
    const t3 = emptyTensor(gpu, 'test.t', [3], 'i32');
    expect(() => crossEntropyBackward(rec, logits, t3, loss, logits, 1 / 0)).toThrow(/scale = Infinity must be finite/);
    expect(rec.length).toBe(0);
  });

  for (const V of [1000, 4099]) {
    it(`the three paths agree at N = 70, V = ${V}, and each repeats itself bitwise`, async (ctx) => {
      const gpu = await testGpu();
      if (!gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
      const N = 70;
      const targets = Int32Array.from({ length: N }, (_, n) => (n % 5 === 4 ? -1 : (n * 37) % V));
      const out: Record<string, number[][]> = {};
      for (const path of REDUCTION_PATHS) {
        await pathGpu(path, ctx);
        const first = await runCase(gpu, N, V, targets, 6, 1 / 56);
        const again = await runCase(gpu, N, V, targets, 6, 1 / 56);
        out[path] = [[...first.glse], [...first.gl], [first.gtotal], [...first.gd]];
        expect([[...again.glse], [...again.gl], [again.gtotal], [...again.gd]], path).toEqual(out[path]);
      }
      for (const path of REDUCTION_PATHS.slice(1)) {
        // lse ≈ 60 in f32 summed in another order: a few ulps of 60, relative to the largest value.
        out.workgroup.forEach((w, i) => expect(relToMax(out[path][i], w), `${path} output ${i}`).toBeLessThan(1e-6));
      }
    });
  }
});
