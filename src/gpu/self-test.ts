import type { Gpu } from './device.ts';
import { accumulate, addForward } from '../kernels/residual.ts';
import { rmsnormForward } from '../kernels/rmsnorm.ts';

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
  // A row reduction on the path training takes here (subgroups or workgroup memory): RMSNorm of
  // [N, C] = [37, 2701] rows of b (C is odd: no multiple of any subgroup size).
  const [rows, c] = [37, 2701];
  const x = b.subarray(0, rows * c);
  const gain = gpu.pool.upload('selftest.gain', [c], 'f32', new Float32Array(c).fill(1));
  const tx = gpu.pool.upload('selftest.x', [rows, c], 'f32', x);
  const ty = gpu.pool.tensor('selftest.y', [rows, c]);
  const rstd = gpu.pool.tensor('selftest.rstd', [rows]);
  const rec = gpu.recorder('self-test');
  addForward(rec, ta, tb, out);
  accumulate(rec, tb, ta, -2);
  rmsnormForward(rec, tx, gain, ty, rstd, 1e-5);
  rec.submit();
  await gpu.sync('self-test');
  const [sum, acc, y] = await Promise.all([gpu.pool.readF32(out), gpu.pool.readF32(ta), gpu.pool.readF32(ty)]);
  let addErr = 0;
  let accErr = 0;
  for (let i = 0; i < n; i++) {
    addErr = Math.max(addErr, Math.abs(sum[i] - Math.fround(a[i] + b[i])));
    accErr = Math.max(accErr, Math.abs(acc[i] - Math.fround(a[i] - 2 * b[i])));
  }
  // The same in float64; the f32 sum of 2701 squares is good to a few 1e-7 relative.
  let normErr = 0;
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let j = 0; j < c; j++) ss += x[r * c + j] ** 2;
    const inv = 1 / Math.sqrt(ss / c + 1e-5);
    for (let j = 0; j < c; j++) normErr = Math.max(normErr, Math.abs(y[r * c + j] - x[r * c + j] * inv));
  }
  for (const t of [ta, tb, out, gain, tx, ty, rstd]) gpu.pool.releaseTensor(t);
  rec.destroy();
  const checks = [
    { name: 'add', maxError: addErr, ok: addErr === 0 },
    { name: 'accumulate', maxError: accErr, ok: accErr <= 1e-6 },
    { name: gpu.subgroups ? 'rmsnorm (subgroups)' : 'rmsnorm', maxError: normErr, ok: normErr <= 1e-5 },
  ];
  return { ok: checks.every((c) => c.ok), checks, ms: performance.now() - start };
}
