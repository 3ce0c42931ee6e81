import { describe, expect, it } from 'vitest';
import { adamwConstants, adamwStep, sgdStep } from '../../src/kernels/optimizer.ts';
import { adamwRef, sgdRef, type AdamWRefHyper } from '../reference/optimizer.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { randomArray } from '../helpers/numeric.ts';

const N = 4096 + 37;
const LRS = [1e-3, 5e-3, 2e-2, 1e-2, 3e-3];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i]));
  return worst;
}

describe('AdamW', () => {
  it('uses the bias corrections of torch.optim.AdamW', () => {
    const c = adamwConstants({ lr: 0.01, weightDecay: 0.1, step: 3 });
    expect(c.stepSize).toBeCloseTo(0.01 / (1 - 0.9 ** 3), 15);
    expect(c.bc2Sqrt).toBeCloseTo(Math.sqrt(1 - 0.999 ** 3), 15);
    expect(c.decay).toBeCloseTo(1 - 0.001, 15);
  });

  for (const clipped of [false, true]) {
    it(`matches the float64 reference over 5 steps with varied lr${clipped ? ', gradients clipped on the GPU' : ''}`, async () => {
      const gpu = await testGpu();
      const h: AdamWRefHyper = { lr: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };
      const p = randomArray(N, 1);
      const m = new Float64Array(N);
      const v = new Float64Array(N);
      const state = {
        param: f32Tensor(gpu, 'test.param', [N], p),
        grad: emptyTensor(gpu, 'test.grad', [N]),
        m: emptyTensor(gpu, 'test.m', [N]),
        v: emptyTensor(gpu, 'test.v', [N]),
      };
      const clipValue = 0.37;
      const clip = clipped ? f32Tensor(gpu, 'test.clip', [1], [clipValue]) : undefined;
      for (let t = 1; t <= 5; t++) {
        // Gradients of varied magnitude, some tiny, so m / √v is exercised away from ±1.
        const g = randomArray(N, 10 + t, t === 3 ? 1e-3 : 0.5);
        gpu.pool.write(state.grad, Float32Array.from(g));
        h.lr = LRS[t - 1];
        await run(gpu, (rec) => adamwStep(rec, state, { ...h, step: t }, clip));
        adamwRef(p, g, m, v, h, t, clipped ? Math.fround(clipValue) : 1);
      }
      const [gp, gm, gv] = await run(gpu, () => {}, state.param, state.m, state.v);
      // Parameters of size ≤ 1 after 5 f32 updates: a few ulps (6e-8) each; 1e-6 absolute.
      expect(maxAbsDiff(gp, p)).toBeLessThan(1e-6);
      // Moments: f32 rounding of terms ≤ 0.5 (m) and ≤ 0.25 (v); 1e-7 absolute.
      expect(maxAbsDiff(gm, m)).toBeLessThan(1e-7);
      expect(maxAbsDiff(gv, v)).toBeLessThan(1e-7);
      // The run moved the parameters by far more than the tolerance.
      expect(maxAbsDiff(gp, randomArray(N, 1))).toBeGreaterThan(1e-2);
    });
  }

  it('leaves parameters and moments untouched when the clip coefficient is NaN', async () => {
    const gpu = await testGpu();
    const p = randomArray(N, 2);
    const m = randomArray(N, 3, 0.1);
    const state = {
      param: f32Tensor(gpu, 'test.param', [N], p),
      grad: f32Tensor(gpu, 'test.grad', [N], randomArray(N, 4)),
      m: f32Tensor(gpu, 'test.m', [N], m),
      v: f32Tensor(gpu, 'test.v', [N], m.map((x) => x * x)),
    };
    const clip = f32Tensor(gpu, 'test.clip', [1], [NaN]);
    const [gp, gm] = await run(gpu, (rec) => adamwStep(rec, state, { lr: 0.1, step: 4 }, clip), state.param, state.m);
    expect(maxAbsDiff(gp, p)).toBe(0);
    expect(maxAbsDiff(gm, m)).toBe(0);
  });

  it('refuses mismatched buffers and bad hyperparameters before encoding anything', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const a = emptyTensor(gpu, 'test.a', [10]);
    const b = emptyTensor(gpu, 'test.b', [11]);
    expect(() => adamwStep(rec, { param: a, grad: a, m: b, v: a }, { lr: 1e-3, step: 1 })).toThrow(/m is test.b f32\[11\] but \[10\] is needed/);
    expect(() => adamwStep(rec, { param: a, grad: a, m: a, v: a }, { lr: 1e-3, step: 0 })).toThrow(/step = 0 must be an integer ≥ 1/);
    expect(() => sgdStep(rec, { param: a, grad: a }, { lr: NaN })).toThrow(/lr = NaN must be a finite number/);
    expect(() => sgdStep(rec, { param: a, grad: a }, { lr: 1 }, b)).toThrow(/clip is test.b f32\[11\] but \[1\] is needed/);
    expect(rec.length).toBe(0);
  });
});

describe('SGD', () => {
  for (const clipped of [false, true]) {
    it(`matches the float64 reference over 5 steps with weight decay${clipped ? ', clipped' : ''}`, async () => {
      const gpu = await testGpu();
      const p = randomArray(N, 5);
      const param = f32Tensor(gpu, 'test.param', [N], p);
      const grad = emptyTensor(gpu, 'test.grad', [N]);
      const clip = clipped ? f32Tensor(gpu, 'test.clip', [1], [0.5]) : undefined;
      for (let t = 1; t <= 5; t++) {
        const g = randomArray(N, 20 + t);
        gpu.pool.write(grad, Float32Array.from(g));
        await run(gpu, (rec) => sgdStep(rec, { param, grad }, { lr: LRS[t - 1] * 10, weightDecay: 0.01 }, clip));
        sgdRef(p, g, Math.fround(LRS[t - 1] * 10), Math.fround(0.01), clipped ? 0.5 : 1);
      }
      const [gp] = await run(gpu, () => {}, param);
      // Five f32 updates of parameters ≤ 1.5: a few ulps; 1e-6 absolute.
      expect(maxAbsDiff(gp, p)).toBeLessThan(1e-6);
      expect(maxAbsDiff(gp, randomArray(N, 5))).toBeGreaterThan(0.1);
    });
  }
});
