import { describe, expect, it } from 'vitest';
import { accumulate, addForward } from '../../src/kernels/residual.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { randomArray } from '../helpers/numeric.ts';

describe('residual add', () => {
  it('adds elementwise at a length that is not a workgroup multiple', async () => {
    const gpu = await testGpu();
    const n = 1000 + 7;
    const a = randomArray(n, 1);
    const b = randomArray(n, 2);
    const ta = f32Tensor(gpu, 'test.a', [n], a);
    const tb = f32Tensor(gpu, 'test.b', [n], b);
    const out = emptyTensor(gpu, 'test.out', [n]);
    const [y] = await run(gpu, (rec) => addForward(rec, ta, tb, out), out);
    // f32 addition of f32 inputs: exact to one rounding.
    for (let i = 0; i < n; i++) expect(y[i]).toBe(Math.fround(a[i] + b[i]));
  });

  it('folds more than 65,535 workgroups into two dimensions', async () => {
    const gpu = await testGpu();
    const n = 256 * 65535 + 300;
    const g = new Float32Array(n).fill(1);
    for (let i = 0; i < n; i += 9973) g[i] = 3;
    const tg = gpu.pool.upload('test.g', [n], 'f32', g);
    const acc = emptyTensor(gpu, 'test.acc', [n]);
    const [y] = await run(gpu, (rec) => accumulate(rec, tg, acc, 0.5), acc);
    for (let i = 0; i < n; i += 9973) expect(y[i]).toBe(1.5);
    expect(y[n - 1]).toBe(0.5);
    expect(y.reduce((s, v) => s + v, 0)).toBeCloseTo(0.5 * n + Math.ceil(n / 9973), 3);
  });

  it('refuses mismatched shapes before encoding anything', async () => {
    const gpu = await testGpu();
    const a = emptyTensor(gpu, 'test.a2', [4, 3]);
    const b = emptyTensor(gpu, 'test.b2', [3, 4]);
    const rec = gpu.recorder('test');
    expect(() => addForward(rec, a, b, a)).toThrow(/b is test.b2 f32\[3, 4\] but \[4, 3\] is needed/);
    expect(rec.length).toBe(0);
  });
});
