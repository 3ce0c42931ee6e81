import { describe, expect, it } from 'vitest';
import { linearBackwardInput, linearBackwardWeight, linearForward, matmul, splitScratchElements } from '../../src/kernels/matmul.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { dropoutKeep } from '../../src/kernels/lora.ts';
import { weightTensor, type WeightDType } from '../helpers/matmul-weights.ts';
import { maxRelError, randomArray } from '../helpers/numeric.ts';
import { linearDwRef, linearDxRef, linearRef, matmulRef } from '../reference/matmul.ts';

// [M, N, K]: not tile multiples, one row (generation), K = 1, and a mid size spanning several tiles.
const SHAPES: [number, number, number][] = [[37, 53, 29], [1, 53, 29], [37, 53, 1], [130, 257, 100]];
const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16'];
// f32 products of f32 inputs summed over K ≤ 257 terms: error ≲ K·2^-24 of the magnitude of the
// terms. The references use the exact (decoded) weights, so f16/bf16 need no looser bound.
const TOL = 2e-5;
const FLOOR = 1;

describe('linear x·Wᵀ', () => {
  for (const dtype of DTYPES) {
    it(`matches the reference with ${dtype} weights at odd shapes, with and without bias`, async () => {
      const gpu = await testGpu();
      for (const [m, n, k] of SHAPES) {
        const x = randomArray(m * k, m + k);
        const { t: w, exact } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, n), dtype);
        const bias = randomArray(n, 7);
        const tx = f32Tensor(gpu, 'test.x', [m, k], x);
        const tb = f32Tensor(gpu, 'test.bias', [n], bias);
        const y1 = emptyTensor(gpu, 'test.y1', [m, n]);
        const y2 = emptyTensor(gpu, 'test.y2', [m, n]);
        const [got1, got2] = await run(gpu, (rec) => {
          linearForward(rec, { x: tx, w, y: y1 });
          linearForward(rec, { x: tx, w, bias: tb, y: y2, alpha: 0.5 });
        }, y1, y2);
        expect(maxRelError(got1, linearRef(x, exact, m, n, k), FLOOR)).toBeLessThan(TOL);
        expect(maxRelError(got2, linearRef(x, exact, m, n, k, bias, 0.5), FLOOR)).toBeLessThan(TOL);
      }
    });
  }

  it('adds into y with accumulate and keeps leading batch dims [B, T, C]', async () => {
    const gpu = await testGpu();
    const [b, t, k, n] = [3, 13, 29, 53];
    const x = randomArray(b * t * k, 1);
    const w = randomArray(n * k, 2);
    const y0 = randomArray(b * t * n, 3);
    const y = f32Tensor(gpu, 'test.y', [b, t, n], y0);
    const [got] = await run(gpu, (rec) => linearForward(rec, { x: f32Tensor(gpu, 'test.x', [b, t, k], x), w: f32Tensor(gpu, 'test.w', [n, k], w), y, accumulate: true }), y);
    const ref = linearRef(x, w, b * t, n, k).map((v, i) => v + y0[i]);
    expect(maxRelError(got, ref, FLOOR)).toBeLessThan(TOL);
  });
});

describe('linear backward', () => {
  for (const dtype of DTYPES) {
    it(`dY·W matches the reference with ${dtype} weights, written and accumulated`, async () => {
      const gpu = await testGpu();
      for (const [m, n, k] of SHAPES) {
        const dy = randomArray(m * n, m + n);
        const { t: w, exact } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, k), dtype);
        const dx0 = randomArray(m * k, 5);
        const tdy = f32Tensor(gpu, 'test.dy', [m, n], dy);
        const dx1 = emptyTensor(gpu, 'test.dx1', [m, k]);
        const dx2 = f32Tensor(gpu, 'test.dx2', [m, k], dx0);
        const [got1, got2] = await run(gpu, (rec) => {
          linearBackwardInput(rec, { dy: tdy, w, dx: dx1 });
          linearBackwardInput(rec, { dy: tdy, w, dx: dx2, accumulate: true, alpha: 2 });
        }, dx1, dx2);
        const ref = linearDxRef(dy, exact, m, n, k);
        expect(maxRelError(got1, ref, FLOOR)).toBeLessThan(TOL);
        expect(maxRelError(got2, ref.map((v, i) => 2 * v + dx0[i]), FLOOR)).toBeLessThan(TOL);
      }
    });
  }

  it('dYᵀ·x accumulates into dW at odd shapes', async () => {
    const gpu = await testGpu();
    for (const [m, n, k] of SHAPES) {
      const dy = randomArray(m * n, 11);
      const x = randomArray(m * k, 12);
      const dw0 = randomArray(n * k, 13);
      const dw = f32Tensor(gpu, 'test.dw', [n, k], dw0);
      const [got] = await run(gpu, (rec) => linearBackwardWeight(rec, { dy: f32Tensor(gpu, 'test.dy', [m, n], dy), x: f32Tensor(gpu, 'test.x', [m, k], x), dw }), dw);
      const ref = linearDwRef(dy, x, m, n, k).map((v, i) => v + dw0[i]);
      expect(maxRelError(got, ref, FLOOR)).toBeLessThan(TOL);
    }
  });
});

describe('split-K', () => {
  it('splits long contractions with thin outputs into parts and sums them, in every linear form', async () => {
    const gpu = await testGpu();
    // [M, N, K] with one or two output tiles and K ≥ 128, so the product is split; dropout on.
    const [m, n, k] = [37, 8, 300];
    const drop = { p: 0.25, seed: 3 };
    const x = randomArray(m * k, 31);
    const w = randomArray(n * k, 32);
    const bias = randomArray(n, 33);
    const y0 = randomArray(m * n, 34);
    const full = emptyTensor(gpu, 'test.scratch', [splitScratchElements(m, n)]);
    const small = emptyTensor(gpu, 'test.scratch2', [2 * m * n]);
    const tx = f32Tensor(gpu, 'test.x', [m, k], x);
    const tw = f32Tensor(gpu, 'test.w', [n, k], w);
    const tb = f32Tensor(gpu, 'test.bias', [n], bias);
    const ya = f32Tensor(gpu, 'test.ya', [m, n], y0);
    const yb = emptyTensor(gpu, 'test.yb', [m, n]);
    const yc = emptyTensor(gpu, 'test.yc', [m, n]);
    // dX [37, 8] = dY [37, 300] · W2 [300, 8]: a thin output with the contraction over W2's rows.
    const dy2 = randomArray(m * k, 35);
    const w2 = randomArray(k * n, 36);
    const dx = emptyTensor(gpu, 'test.dx', [m, n]);
    // dW [N, K2] = dYᵀ · x over M2 = 300 rows.
    const [m2, k2] = [300, 53];
    const dy3 = randomArray(m2 * n, 37);
    const x3 = randomArray(m2 * k2, 38);
    const dw0 = randomArray(n * k2, 39);
    const dw = f32Tensor(gpu, 'test.dw', [n, k2], dw0);
    const [gotA, gotB, gotC, gotDx, gotDw] = await run(gpu, (rec) => {
      linearForward(rec, { x: tx, w: tw, bias: tb, y: ya, accumulate: true, scratch: full });
      linearForward(rec, { x: tx, w: tw, y: yb, dropout: drop, scratch: small });
      linearForward(rec, { x: tx, w: tw, y: yc, dropout: drop });
      linearBackwardInput(rec, { dy: f32Tensor(gpu, 'test.dy2', [m, k], dy2), w: f32Tensor(gpu, 'test.w2', [k, n], w2), dx, dropout: drop, scratch: full });
      linearBackwardWeight(rec, { dy: f32Tensor(gpu, 'test.dy3', [m2, n], dy3), x: f32Tensor(gpu, 'test.x3', [m2, k2], x3), dw, dropout: drop, scratch: full });
    }, ya, yb, yc, dx, dw);
    expect(maxRelError(gotA, linearRef(x, w, m, n, k, bias).map((v, i) => v + y0[i]), FLOOR)).toBeLessThan(TOL);
    const mask = (count: number) => Float64Array.from({ length: count }, (_, i) => (dropoutKeep(drop.seed, i, drop.p) ? 1 / (1 - drop.p) : 0));
    const xm = mask(m * k);
    expect(maxRelError(gotB, linearRef(x.map((v, i) => v * xm[i]), w, m, n, k), FLOOR)).toBeLessThan(TOL);
    // Split or not, the same dropout mask (indexed by x's elements) applies.
    expect(maxRelError(gotB, gotC, FLOOR)).toBeLessThan(TOL);
    const dxm = mask(m * n);
    expect(maxRelError(gotDx, linearDxRef(dy2, w2, m, k, n).map((v, i) => v * dxm[i]), FLOOR)).toBeLessThan(TOL);
    const x3m = mask(m2 * k2);
    expect(maxRelError(gotDw, linearDwRef(dy3, x3.map((v, i) => v * x3m[i]), m2, n, k2).map((v, i) => v + dw0[i]), FLOOR)).toBeLessThan(TOL);
    // The split really happens: a partial-products dispatch plus the summing pass.
    const rec = gpu.recorder('test.count');
    linearForward(rec, { x: tx, w: tw, y: yb, scratch: full });
    expect(rec.length).toBe(2);
    linearForward(rec, { x: tx, w: tw, y: yb });
    expect(rec.length).toBe(3);
  });
});

describe('matmul (f32 operands)', () => {
  it('computes every transpose combination, batched, with b per batch or shared', async () => {
    const gpu = await testGpu();
    const [batch, m, n, k] = [3, 37, 19, 70];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const shared of [false, true]) {
          const a = randomArray(batch * m * k, 21);
          const b = randomArray((shared ? 1 : batch) * k * n, 22);
          const ta = f32Tensor(gpu, 'test.a', transA ? [batch, k, m] : [batch, m, k], a);
          const bShape = transB ? [n, k] : [k, n];
          const tb = f32Tensor(gpu, 'test.b', shared ? bShape : [batch, ...bShape], b);
          const c = emptyTensor(gpu, 'test.c', [batch, m, n]);
          const [got] = await run(gpu, (rec) => matmul(rec, { a: ta, b: tb, c, transA, transB }), c);
          const ref = matmulRef(a, b, batch, m, n, k, transA, transB, shared);
          expect(maxRelError(got, ref, FLOOR), `transA=${transA} transB=${transB} shared=${shared}`).toBeLessThan(TOL);
        }
      }
    }
  });

  it('refuses mismatched shapes and dtypes before encoding anything', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const x = emptyTensor(gpu, 'test.x', [4, 3]);
    const w = emptyTensor(gpu, 'test.w', [5, 4]);
    const y = emptyTensor(gpu, 'test.y', [4, 5]);
    expect(() => linearForward(rec, { x, w, y })).toThrow(/linearForward: x is test.x f32\[4, 3\] but its last dimension must be 4/);
    const w2 = emptyTensor(gpu, 'test.w2', [5, 3], 'u32');
    expect(() => linearForward(rec, { x, w: w2, y })).toThrow(/weight is test.w2 u32\[5, 3\] but a 2-D \[out, in\] f32\/f16\/bf16/);
    expect(() => linearForward(rec, { x, w: emptyTensor(gpu, 'test.w3', [5, 3]), y: emptyTensor(gpu, 'test.y3', [4, 6]) })).toThrow(/y is test.y3 f32\[4, 6\] but f32\[4, 5\] is needed/);
    expect(() => matmul(rec, { a: x, b: y, c: y })).toThrow(/inner dimensions differ/);
    expect(() => linearForward(rec, { x, w: emptyTensor(gpu, 'test.w5', [5, 3]), y, scratch: emptyTensor(gpu, 'test.s', [64], 'u32') })).toThrow(/scratch is test.s u32\[64\] but must be f32/);
    expect(() => linearForward(rec, { x, w: emptyTensor(gpu, 'test.w4', [5, 3]), y, dropout: { p: 1, seed: 0 } })).toThrow(/dropout probability 1/);
    expect(rec.length).toBe(0);
  });
});
