import { describe, expect, it } from 'vitest';
import { LoraOptimizer } from '../../src/train/optimizer.ts';
import { lrAt } from '../../src/train/schedule.ts';
import { testGpu } from '../helpers/gpu.ts';

/** torch.optim.AdamW (single-tensor) + clip_grad_norm_ in float64, written from the PyTorch docs. */
function adamwReference(p0: number[], g: number[], steps: number, o: { lrs: number[]; b1: number; b2: number; eps: number; wd: number; maxNorm: number }) {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  const coef = o.maxNorm > 0 ? Math.min(1, o.maxNorm / (norm + 1e-6)) : 1;
  for (let t = 1; t <= steps; t++) {
    const lr = o.lrs[t - 1];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * coef;
      p[i] *= 1 - lr * o.wd;
      m[i] = o.b1 * m[i] + (1 - o.b1) * gi;
      v[i] = o.b2 * v[i] + (1 - o.b2) * gi * gi;
      const bc1 = 1 - o.b1 ** t;
      const bc2 = 1 - o.b2 ** t;
      p[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps));
    }
  }
  return { p, m, v, norm };
}

describe('LoraOptimizer on the GPU', () => {
  const P = 333; // not a multiple of the 256-wide workgroup
  const p0 = Array.from({ length: P }, (_, i) => Math.sin(i * 0.7) * 0.3);
  const g = Array.from({ length: P }, (_, i) => Math.cos(i * 1.3) * 0.05 + (i % 7 === 0 ? 0.2 : 0));

  it('AdamW with clipping, weight decay and a schedule follows the float64 reference for 5 steps', async () => {
    const gpu = await testGpu();
    const params = gpu.pool.upload('test.params', [P], 'f32', Float32Array.from(p0));
    const grads = gpu.pool.upload('test.grads', [P], 'f32', Float32Array.from(g));
    const opt = new LoraOptimizer(gpu, params, grads, { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 0.5 });
    const sched = { kind: 'cosine' as const, lr: 1e-2, warmupSteps: 1, totalSteps: 6 };
    const lrs = [1, 2, 3, 4, 5].map((t) => lrAt(sched, t)); // steps 1..5 of the schedule (step 0 would be lr 0)
    for (let t = 1; t <= 5; t++) {
      const rec = gpu.recorder('test.step');
      opt.record(rec, lrs[t - 1], t);
      rec.submit();
    }
    await gpu.sync('optimizer test');
    const ref = adamwReference(p0, g, 5, { lrs, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, maxNorm: 0.5 });
    expect(ref.norm).toBeGreaterThan(0.5); // the clip is active in this test
    const p = await gpu.pool.readF32(params);
    const moments = (await opt.readMoments())!;
    const norm = (await gpu.pool.readF32(opt.norm))[0];
    // f32 GPU arithmetic vs float64: |Δ| ≤ 2e-6 absolute on values ~0.3 after 5 steps of size ~1e-2.
    for (let i = 0; i < P; i++) {
      expect(Math.abs(p[i] - ref.p[i])).toBeLessThan(2e-6);
      expect(Math.abs(moments.m[i] - ref.m[i])).toBeLessThan(1e-7 + 1e-5 * Math.abs(ref.m[i]));
      expect(Math.abs(moments.v[i] - ref.v[i])).toBeLessThan(1e-10 + 1e-5 * Math.abs(ref.v[i]));
    }
    expect(Math.abs(norm - ref.norm) / ref.norm).toBeLessThan(1e-5); // f32 sum of 333 squares
    opt.destroy();
  });

  it('SGD is p − lr·g without clipping', async () => {
    const gpu = await testGpu();
    const params = gpu.pool.upload('test.params', [P], 'f32', Float32Array.from(p0));
    const grads = gpu.pool.upload('test.grads', [P], 'f32', Float32Array.from(g));
    const opt = new LoraOptimizer(gpu, params, grads, { kind: 'sgd', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 0 });
    const rec = gpu.recorder('test.step');
    opt.record(rec, 0.1, 1);
    rec.submit();
    const p = await gpu.pool.readF32(params);
    // one f32 multiply-subtract: exact to the f32 rounding of each operation
    for (let i = 0; i < P; i++) expect(p[i]).toBe(Math.fround(Math.fround(p0[i]) - Math.fround(Math.fround(0.1) * Math.fround(g[i]))));
    expect(await opt.readMoments()).toBeNull();
    opt.destroy();
  });

  it('a non-finite gradient leaves params and moments untouched and the norm non-finite', async () => {
    const gpu = await testGpu();
    const params = gpu.pool.upload('test.params', [P], 'f32', Float32Array.from(p0));
    const bad = Float32Array.from(g);
    bad[17] = Number.NaN;
    const grads = gpu.pool.upload('test.grads', [P], 'f32', bad);
    const opt = new LoraOptimizer(gpu, params, grads, { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    const rec = gpu.recorder('test.step');
    opt.record(rec, 1e-3, 1);
    rec.submit();
    const p = await gpu.pool.readF32(params);
    expect(Array.from(p)).toEqual(Array.from(Float32Array.from(p0)));
    const mo = (await opt.readMoments())!;
    expect(mo.m.every((x) => x === 0) && mo.v.every((x) => x === 0)).toBe(true);
    expect(Number.isFinite((await gpu.pool.readF32(opt.norm))[0])).toBe(false);
    opt.destroy();
  });
});
