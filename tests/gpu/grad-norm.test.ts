import { describe, expect, it } from 'vitest';
import { gradNorm, gradNormFlag, gradNormPartials, stepGuard } from '../../src/kernels/grad-norm.ts';
import { clipCoefRef, gradNormRef, stepGuardRef } from '../reference/grad-norm.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { emptyTensor, f32Tensor, pathGpu, run, testGpu, type ReductionPath } from '../helpers/gpu.ts';
import { randomArray } from '../helpers/numeric.ts';

async function normOf(gpu: Gpu, g: Float64Array, maxNorm: number) {
  const tg = f32Tensor(gpu, 'test.grad', [g.length], g);
  const partials = emptyTensor(gpu, 'test.partials', [gradNormPartials(g.length)]);
  const norm = emptyTensor(gpu, 'test.norm', [1]);
  const clip = emptyTensor(gpu, 'test.clip', [1]);
  const flag = gpu.pool.upload('test.flag', [1], 'u32', Uint32Array.of(7));
  const [n, c] = await run(
    gpu,
    (rec) => {
      gradNorm(rec, tg, partials, norm, clip, maxNorm);
      gradNormFlag(rec, norm, flag);
    },
    norm,
    clip,
  );
  const f = new Uint32Array(await gpu.pool.read(flag));
  return { norm: n[0], clip: c[0], flag: f[0] };
}

// The partial sums reduce a workgroup at a time: through workgroup memory or with subgroups.
for (const path of ['workgroup', 'subgroup workgroups'] as ReductionPath[]) {
  describe(`gradient norm (${path})`, () => {
    it('matches float64 on 1e6 elements and clips like clip_grad_norm_', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const g = randomArray(1_000_000, 1, 0.01);
      const ref = gradNormRef(g); // ≈ 5.77
      const r = await normOf(gpu, g, 1.0);
      // f32 squares summed per thread, then in trees: relative 1e-5 as required.
      expect(Math.abs(r.norm - ref) / ref).toBeLessThan(1e-5);
      expect(Math.abs(r.clip - clipCoefRef(ref, 1.0)) / clipCoefRef(ref, 1.0)).toBeLessThan(1e-5);
      expect(r.clip).toBeLessThan(0.2);
      expect(r.flag).toBe(0);
    });

    it('gives clip = 1 below the limit and when clipping is off', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const g = randomArray(1001, 2, 0.1); // norm ≈ 1.8
      const ref = gradNormRef(g);
      for (const maxNorm of [10, 0, -1, Infinity]) {
        const r = await normOf(gpu, g, maxNorm);
        expect(Math.abs(r.norm - ref) / ref).toBeLessThan(1e-5);
        expect(r.clip).toBe(1);
      }
    });

    it('propagates NaN and Inf to the norm, marks the clip coefficient NaN and raises the flag', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const g = randomArray(70_001, 3);
      g[12_345] = NaN;
      const nan = await normOf(gpu, g, 1);
      expect(Number.isNaN(nan.norm)).toBe(true);
      expect(Number.isNaN(nan.clip)).toBe(true);
      expect(nan.flag).toBe(1);
      g[12_345] = -Infinity;
      const inf = await normOf(gpu, g, 0);
      expect(inf.norm).toBe(Infinity);
      expect(Number.isNaN(inf.clip)).toBe(true);
      expect(inf.flag).toBe(1);
      g[70_000] = NaN; // NaN wins over Inf, as in IEEE arithmetic
      expect(Number.isNaN((await normOf(gpu, g, 0)).norm)).toBe(true);
    });
  });
}

describe('gradient norm', () => {
  it('the two paths agree on 100,001 elements, and each repeats itself bitwise', async (ctx) => {
    const g = randomArray(100_001, 4, 0.01);
    const norms: number[] = [];
    for (const path of ['workgroup', 'subgroup workgroups'] as ReductionPath[]) {
      const gpu = await pathGpu(path, ctx);
      const first = await normOf(gpu, g, 1);
      expect(await normOf(gpu, g, 1), path).toEqual(first);
      norms.push(first.norm);
    }
    // Another order of the same f32 sum of 1e5 squares: ~1e-7 relative.
    expect(Math.abs(norms[1] - norms[0]) / norms[0]).toBeLessThan(1e-6);
  });

  it('raises the flag above a given limit only', async () => {
    const gpu = await testGpu();
    const norm = f32Tensor(gpu, 'test.norm', [1], [5]);
    const flags = [0, 1].map(() => gpu.pool.upload('test.flag', [1], 'u32', Uint32Array.of(7)));
    await run(gpu, (rec) => {
      gradNormFlag(rec, norm, flags[0], 4);
      gradNormFlag(rec, norm, flags[1], 6);
    });
    expect(new Uint32Array(await gpu.pool.read(flags[0]))[0]).toBe(1);
    expect(new Uint32Array(await gpu.pool.read(flags[1]))[0]).toBe(0);
  });

  it('refuses a partials buffer of the wrong length before encoding anything', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const g = emptyTensor(gpu, 'test.g', [5000]);
    const one = emptyTensor(gpu, 'test.one', [1]);
    expect(gradNormPartials(5000)).toBe(20);
    expect(() => gradNorm(rec, g, emptyTensor(gpu, 'test.p', [16]), one, one, 1)).toThrow(/partials is test.p f32\[16\] but \[20\] is needed/);
    expect(() => gradNormFlag(rec, one, one)).toThrow(/flag is test.one f32\[1\] but one of u32 is needed/);
    expect(rec.length).toBe(0);
  });

  it('the step guard halts on a non-finite loss or norm, stays halted, and leaves a good step alone', async () => {
    const gpu = await testGpu();
    const cases: [number, number, number, boolean][] = [
      // loss, norm, halted before, check the loss
      [1.5, 2, 0, true],
      [NaN, 2, 0, true],
      [Infinity, 2, 0, true],
      [Infinity, 2, 0, false],
      [1.5, -Infinity, 0, false],
      [1.5, NaN, 0, true],
      [1.5, 2, 1, true],
    ];
    for (const [loss, norm, before, checkLoss] of cases) {
      const t = {
        loss: f32Tensor(gpu, 'test.loss', [1], [loss]),
        norm: f32Tensor(gpu, 'test.norm', [1], [norm]),
        clip: f32Tensor(gpu, 'test.clip', [1], [0.25]),
        halted: gpu.pool.upload('test.halted', [1], 'u32', Uint32Array.of(before)),
      };
      const [clip] = await run(gpu, (rec) => stepGuard(rec, t, checkLoss), t.clip);
      const halted = new Uint32Array(await gpu.pool.read(t.halted))[0];
      const ref = stepGuardRef(loss, norm, 0.25, before, checkLoss);
      expect({ clip: clip[0], halted }, `loss ${loss}, norm ${norm}, halted ${before}, check loss ${checkLoss}`).toEqual(ref);
      for (const x of Object.values(t)) gpu.pool.releaseTensor(x);
    }
    const rec = gpu.recorder('test');
    const one = emptyTensor(gpu, 'test.one', [1]);
    expect(() => stepGuard(rec, { loss: one, norm: one, clip: one, halted: one })).toThrow(/halted is test.one f32\[1\] but one of u32 is needed/);
    expect(rec.length).toBe(0);
  });
});
