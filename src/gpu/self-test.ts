import type { Gpu } from './device.ts';
import { accumulate, addForward } from '../kernels/residual.ts';

export interface SelfTestResult {
  ok: boolean;
  checks: { name: string; maxError: number; ok: boolean }[];
  ms: number;
}

/**
 * Runs a few kernels on random data and compares them with the same arithmetic on the CPU, so a
 * person sees that this GPU computes correctly before trusting it with a training run.
 */
export async function gpuSelfTest(gpu: Gpu): Promise<SelfTestResult> {
  const start = performance.now();
  const n = 100_003;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s / 2 ** 32 - 0.5;
  }
  const ta = gpu.pool.upload('selftest.a', [n], 'f32', a);
  const tb = gpu.pool.upload('selftest.b', [n], 'f32', b);
  const out = gpu.pool.tensor('selftest.out', [n]);
  const rec = gpu.recorder('self-test');
  addForward(rec, ta, tb, out);
  accumulate(rec, tb, ta, -2);
  rec.submit();
  await gpu.sync('self-test');
  const [sum, acc] = await Promise.all([gpu.pool.readF32(out), gpu.pool.readF32(ta)]);
  let addErr = 0;
  let accErr = 0;
  for (let i = 0; i < n; i++) {
    addErr = Math.max(addErr, Math.abs(sum[i] - Math.fround(a[i] + b[i])));
    accErr = Math.max(accErr, Math.abs(acc[i] - Math.fround(a[i] - 2 * b[i])));
  }
  for (const t of [ta, tb, out]) gpu.pool.releaseTensor(t);
  rec.destroy();
  const checks = [
    { name: 'add', maxError: addErr, ok: addErr === 0 },
    { name: 'accumulate', maxError: accErr, ok: accErr <= 1e-6 },
  ];
  return { ok: checks.every((c) => c.ok), checks, ms: performance.now() - start };
}
