import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { ropeBackward, ropeForward, ropeInvFreq, type RopeOptions } from '../../src/kernels/rope.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, maxRelError, randomArray, sampleIndices } from '../helpers/numeric.ts';
import { ropeBackwardRef, ropeForwardRef, ropeInvFreqRef, type RopeRefParams } from '../reference/rope.ts';

// N=37 rows as three packed sequences (12, 12, 13 tokens) continuing from past lengths 5, 300
// and 2000; H=3 heads of D=10 channels.
const [N, H, D] = [37, 3, 10];
const POSITIONS = Int32Array.from({ length: N }, (_, r) => (r < 12 ? 5 + r : r < 24 ? 300 + r - 12 : 2000 + r - 24));

/** The reference's parameters for the inverse frequencies the kernel uses, angles rounded to f32 as HF does. */
function refParams(rotaryDims: number, invFreq: Float32Array, f32Angles = true): RopeRefParams {
  return { heads: H, headDim: D, rotaryDims, invFreq: Float64Array.from(invFreq), f32Angles };
}

/** Runs ropeForward (sign 1) or ropeBackward (−1) in place on a copy of x; x given as [N, ...shape]. */
async function gpuRope(gpu: Gpu, x: Float64Array, shape: number[], positions: Int32Array, options: RopeOptions, sign: 1 | -1) {
  const tx = f32Tensor(gpu, 'test.x', shape, x);
  const tp = gpu.pool.upload('test.positions', [positions.length], 'i32', positions);
  const [y] = await run(gpu, (rec) => (sign === 1 ? ropeForward : ropeBackward)(rec, tx, tp, options), tx);
  return y;
}

describe('rope reference', () => {
  const p: RopeRefParams = { heads: 2, headDim: 10, rotaryDims: 6, invFreq: ropeInvFreqRef(10000, 6) };
  const pos = Int32Array.from([3, 17, 250, 1]);

  it('backward matches central finite differences of the forward', () => {
    const x = randomArray(4 * 2 * 10, 1);
    const dy = randomArray(x.length, 2);
    const loss = (v: Float64Array) => ropeForwardRef(v, pos, p).reduce((s, y, i) => s + y * dy[i], 0);
    const idx = sampleIndices(x.length, 40);
    const fd = finiteDifference(loss, x, idx);
    const dx = ropeBackwardRef(dy, pos, p);
    // The loss is linear in x: central differences are exact up to float64 cancellation (~1e-11).
    expect(maxRelError(fd, idx.map((i) => dx[i]), 1e-6)).toBeLessThan(1e-8);
  });

  it("equals Hugging Face's q·cos + rotate_half(q)·sin on the rotary part, passing the rest through", () => {
    const x = randomArray(4 * 2 * 10, 3);
    const y = ropeForwardRef(x, pos, p);
    for (let r = 0; r < 4; r++) {
      // emb = cat(freqs, freqs); rotate_half(q) = cat(−q2, q1) over the first R channels.
      const freqs = Array.from(p.invFreq, (f) => pos[r] * f);
      const emb = [...freqs, ...freqs];
      for (let h = 0; h < 2; h++) {
        const q = Array.from(x.subarray((r * 2 + h) * 10, (r * 2 + h + 1) * 10));
        const rot = q.slice(0, 6);
        const rotated = [...rot.slice(3).map((v) => -v), ...rot.slice(0, 3)];
        const hf = [...rot.map((v, i) => v * Math.cos(emb[i]) + rotated[i] * Math.sin(emb[i])), ...q.slice(6)];
        const got = Array.from(y.subarray((r * 2 + h) * 10, (r * 2 + h + 1) * 10));
        got.forEach((v, i) => expect(v).toBeCloseTo(hf[i], 14)); // same float64 operations
      }
    }
  });

  it('computes inverse frequencies as HF does in f32', () => {
    for (const [theta, r] of [[10000, 128], [500000, 64], [10000, 6]] as const) {
      // f32 roundings of the power and the reciprocal (6e-8 each), and of the exponent e, which
      // θ^e magnifies by e·ln θ ≤ 13: within (2 + 13)·6e-8 ≈ 9e-7 relative of the exact value.
      expect(maxRelError(ropeInvFreq(theta, r), ropeInvFreqRef(theta, r), 0)).toBeLessThan(1e-6);
    }
    expect(ropeInvFreq(10000, 128)[0]).toBe(1);
    expect(ropeInvFreq(10000, 128)[1]).toBe(Math.fround(1 / Math.fround(10000 ** Math.fround(2 / 128))));
  });
});

describe('rope on the GPU', () => {
  for (const rotaryDims of [6, 10]) {
    it(`forward rotates [37, 3, 10] with rotaryDims ${rotaryDims} like the reference and passes the rest through`, async () => {
      const gpu = await testGpu();
      const x = randomArray(N * H * D, 10 + rotaryDims);
      const y = await gpuRope(gpu, x, [N, H, D], POSITIONS, { heads: H, headDim: D, rotaryDims, theta: 10000 }, 1);
      const ref = ropeForwardRef(x, POSITIONS, refParams(rotaryDims, ropeInvFreq(10000, rotaryDims)));
      // Same f32 angles as HF; sin/cos to ~1e-7 and two f32 products and a sum: |x| ≤ 1 gives
      // ~3e-7 absolute (floor 1: absolute error for |y| < 1).
      expect(maxRelError(y, ref, 1)).toBeLessThan(1e-6);
      for (let k = 0; k < N * H; k++) for (let j = rotaryDims; j < D; j++) expect(y[k * D + j]).toBe(x[k * D + j]);
    });
  }

  it('backward of [37, 30] (heads flattened) with θ = 500000 matches the reference, and undoes the forward', async () => {
    const gpu = await testGpu();
    const options = { heads: H, headDim: D, rotaryDims: 6, theta: 500000 };
    const dy = randomArray(N * H * D, 20);
    const dx = await gpuRope(gpu, dy, [N, H * D], POSITIONS, options, -1);
    const ref = ropeBackwardRef(dy, POSITIONS, refParams(6, ropeInvFreq(500000, 6)));
    expect(maxRelError(dx, ref, 1)).toBeLessThan(1e-6); // as the forward
    const back = await gpuRope(gpu, dx, [N, H * D], POSITIONS, options, 1);
    // Two rotations in f32: ~2× the single-rotation error.
    expect(maxRelError(back, dy, 1)).toBeLessThan(2e-6);
  });

  it('uses precomputed inverse frequencies (Llama 3 rope_scaling) instead of theta', async () => {
    const gpu = await testGpu();
    // Low frequencies divided by the scaling factor 8, as llama3 scaling does for long wavelengths.
    const invFreq = ropeInvFreq(500000, 10).map((f, i) => (i >= 3 ? f / 8 : f));
    const x = randomArray(N * H * D, 30);
    const y = await gpuRope(gpu, x, [N, H, D], POSITIONS, { heads: H, headDim: D, invFreq }, 1);
    const ref = ropeForwardRef(x, POSITIONS, refParams(10, invFreq));
    expect(maxRelError(y, ref, 1)).toBeLessThan(1e-6); // as with theta
  });

  it('stays accurate at positions up to 40,000 (angles reduced carefully in f32)', async () => {
    const gpu = await testGpu();
    const positions = Int32Array.from({ length: N }, (_, r) => [4000, 16383, 39999][r % 3] + r);
    const invFreq = ropeInvFreq(10000, 10);
    const x = randomArray(N * H * D, 40);
    const y = await gpuRope(gpu, x, [N, H, D], positions, { heads: H, headDim: D, theta: 10000 }, 1);
    // Against the same f32 angles HF computes: sin/cos of angles up to 4·10^4 rad stay ~1e-7.
    expect(maxRelError(y, ropeForwardRef(x, positions, refParams(10, invFreq)), 1)).toBeLessThan(1e-6);
    // Against exact float64 angles, the f32 angle itself is off by up to ulp(angle)/2 plus the
    // f32 inv_freq's rounding: ≈ 4e-4·√2 absolute at angle ~4·10^3 (HF has the same error).
    const near = Int32Array.from({ length: N }, (_, r) => 4000 + r);
    const y4k = await gpuRope(gpu, x, [N, H, D], near, { heads: H, headDim: D, theta: 10000 }, 1);
    const exact = ropeForwardRef(x, near, { heads: H, headDim: D, rotaryDims: 10, invFreq: ropeInvFreqRef(10000, 10) });
    expect(maxRelError(y4k, exact, 1)).toBeLessThan(6e-4);
  });

  it('refuses bad rotary settings and layouts before encoding', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const x = emptyTensor(gpu, 'test.q', [N, H, D]);
    const pos = emptyTensor(gpu, 'test.pos', [N], 'i32');
    const base = { heads: H, headDim: D, theta: 10000 };
    expect(() => ropeForward(rec, x, pos, { ...base, rotaryDims: 7 })).toThrow(/rotaryDims must be even, at least 2 and at most headDim/);
    expect(() => ropeForward(rec, x, pos, { ...base, rotaryDims: 12 })).toThrow(/rotaryDims 12\): rotaryDims must be/);
    expect(() => ropeForward(rec, x, pos, { ...base, invFreq: new Float32Array(4) })).toThrow(/invFreq has 4 values but rotaryDims \/ 2 = 5/);
    expect(() => ropeForward(rec, x, pos, { heads: H, headDim: D })).toThrow(/theta is undefined; give rope_theta/);
    expect(() => ropeForward(rec, x, emptyTensor(gpu, 'test.posf', [N]), base)).toThrow(/positions is test.posf f32\[37\] but one of i32/);
    expect(() => ropeBackward(rec, x, pos, { ...base, heads: 2 })).toThrow(
      /rope backward: x is test.q f32\[37, 3, 10\] but f32 \[37, 2, 10\] or \[37, 20\] is needed/,
    );
    expect(rec.length).toBe(0);
  });
});
