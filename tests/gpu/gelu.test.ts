import { describe, expect, it } from 'vitest';
import { geluBackward, geluForward } from '../../src/kernels/gelu.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, maxRelError, randomArray, sampleIndices } from '../helpers/numeric.ts';
import { geluBackwardRef, geluForwardRef } from '../reference/gelu.ts';

// N=37 rows × C=53 channels: not a multiple of the 256-wide workgroup.
const N = 37;
const C = 53;

/** Inputs spread over [-6, 6] plus values where tanh saturates (a naive tanh overflows to NaN there). */
function inputs(seed: number): Float64Array {
  const x = randomArray(N * C, seed, 6);
  [0, -30, 30, -1e4, 1e4, 1e-7, -1e-7].forEach((v, k) => (x[k * 7] = Math.fround(v)));
  return x;
}

describe('gelu (tanh approximation) reference', () => {
  it('backward matches central finite differences of the forward', () => {
    const x = randomArray(200, 3, 4);
    const dy = randomArray(200, 4);
    const loss = (v: Float64Array) => geluForwardRef(v).reduce((s, y, i) => s + y * dy[i], 0);
    const idx = sampleIndices(200, 40);
    const fd = finiteDifference(loss, x, idx);
    const dx = geluBackwardRef(dy, x);
    // Central differences with h=1e-5 in float64: truncation ~h²·|f'''| ≈ 1e-10, cancellation ~1e-11.
    expect(maxRelError(fd, idx.map((i) => dx[i]), 1e-6)).toBeLessThan(1e-6);
  });

  it('stays within 5e-4 of exact GELU x·Φ(x), the tanh approximation\'s known error', () => {
    // x·Φ(x) from Python's math.erf: 0.5·x·(1 + erf(x/√2)).
    const exact: [number, number][] = [
      [-3, -0.00404969409489031],
      [-1.5, -0.10021080190328713],
      [-0.5, -0.15426876936299344],
      [1, 0.8413447460685429],
      [2, 1.9544997361036416],
      [3, 2.99595030590511],
    ];
    const y = geluForwardRef(Float64Array.from(exact.map(([x]) => x)));
    // The approximation's largest deviation is ≈4.7e-4 (near |x| = 3); a wrong constant
    // (0.04715 for 0.044715) would be off by 1.5e-3 at x = 2.
    exact.forEach(([, e], i) => expect(Math.abs(y[i] - e)).toBeLessThan(5e-4));
  });
});

describe('gelu on the GPU', () => {
  it('forward matches the float64 reference at 37×53, including saturated inputs', async () => {
    const gpu = await testGpu();
    const x = inputs(1);
    const tx = f32Tensor(gpu, 'test.x', [N, C], x);
    const ty = emptyTensor(gpu, 'test.y', [N, C]);
    const [y] = await run(gpu, (rec) => geluForward(rec, tx, ty), ty);
    const ref = geluForwardRef(x);
    expect(y.every(Number.isFinite)).toBe(true);
    // f32 tanh built from exp: ~1e-7 absolute error, times |x| ≤ 6 through the 0.5·x factor;
    // floor 1 makes this absolute near zero and relative for |y| > 1.
    expect(maxRelError(y, ref, 1)).toBeLessThan(2e-6);
    expect(y[7]).toBe(-0); // gelu(-30) underflows to (−)0
    expect(y[28]).toBe(1e4);
  });

  it('backward matches the float64 reference at 37×53', async () => {
    const gpu = await testGpu();
    const x = inputs(2);
    const dy = randomArray(N * C, 5);
    const tdy = f32Tensor(gpu, 'test.dy', [N, C], dy);
    const tx = f32Tensor(gpu, 'test.x', [N, C], x);
    const tdx = emptyTensor(gpu, 'test.dx', [N, C]);
    const [dx] = await run(gpu, (rec) => geluBackward(rec, tdy, tx, tdx), tdx);
    const ref = geluBackwardRef(dy, x);
    expect(dx.every(Number.isFinite)).toBe(true);
    // Same error sources as the forward, with |dy| ≤ 1 and gelu' ≤ 1.13.
    expect(maxRelError(dx, ref, 1)).toBeLessThan(2e-6);
  });

  it('refuses mismatched shapes and non-f32 activations before encoding', async () => {
    const gpu = await testGpu();
    const x = emptyTensor(gpu, 'test.x2', [4, 3]);
    const y = emptyTensor(gpu, 'test.y2', [3, 4]);
    const h = emptyTensor(gpu, 'test.h2', [4, 3], 'f16');
    const rec = gpu.recorder('test');
    expect(() => geluForward(rec, x, y)).toThrow(/gelu: y is test.y2 f32\[3, 4\] but \[4, 3\] is needed/);
    expect(() => geluBackward(rec, h, x, x)).toThrow(/dy is test.h2 f16\[4, 3\] but one of f32 is needed/);
    expect(rec.length).toBe(0);
  });
});
