import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import type { DType, Tensor } from '../../src/gpu/tensor.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';
import { LAYERNORM_PARAMS, layernormBackward, layernormForward } from '../../src/kernels/layernorm.ts';
import { threadsPerRow } from '../../src/kernels/rmsnorm.ts';
import { emptyTensor, f32Tensor, pathGpu, REDUCTION_PATHS, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, maxRelError, randomArray, relToMax, sampleIndices } from '../helpers/numeric.ts';
import { layernormBackwardRef, layernormForwardRef } from '../reference/layernorm.ts';

const EPS = 1e-5;

/** A weight [C] (center ± 0.5) uploaded in `dtype`, and its values as the GPU decodes them. */
function weight(gpu: Gpu, label: string, c: number, dtype: DType, center: number, seed: number): { t: Tensor; values: Float64Array } {
  const f32 = Float32Array.from(randomArray(c, seed, 0.5), (v) => center + v);
  if (dtype === 'f32') return { t: gpu.pool.upload(label, [c], 'f32', f32), values: Float64Array.from(f32) };
  const bits = dtype === 'f16' ? f32ToF16(f32) : f32ToBf16(f32);
  return { t: gpu.pool.upload(label, [c], dtype, bits), values: Float64Array.from(dtype === 'f16' ? f16ToF32(bits) : bf16ToF32(bits)) };
}

/** Rows of noise in [-2, 2], every fifth row shifted by +8 so the mean is far from zero. */
function inputs(n: number, c: number, seed: number): Float64Array {
  const x = randomArray(n * c, seed, 2);
  for (let r = 0; r < n; r += 5) for (let j = 0; j < c; j++) x[r * c + j] = Math.fround(x[r * c + j] + 8);
  return x;
}

/** Forward then backward (dx written, then dx added onto `base`) on the GPU, read back. */
async function gpuLayernorm(gpu: Gpu, n: number, c: number, dtype: DType, seed: number) {
  const x = inputs(n, c, seed);
  const dy = randomArray(n * c, seed + 1);
  const base = randomArray(n * c, seed + 2);
  const g = weight(gpu, 'test.g', c, dtype, 1, seed + 3);
  const b = weight(gpu, 'test.b', c, dtype, 0, seed + 4);
  const tx = f32Tensor(gpu, 'test.x', [n, c], x);
  const tdy = f32Tensor(gpu, 'test.dy', [n, c], dy);
  const ty = emptyTensor(gpu, 'test.y', [n, c]);
  const stats = { mean: emptyTensor(gpu, 'test.mean', [n]), rstd: emptyTensor(gpu, 'test.rstd', [n]) };
  const tdx = emptyTensor(gpu, 'test.dx', [n, c]);
  const tacc = f32Tensor(gpu, 'test.acc', [n, c], base);
  const [y, mean, rstd, dx, acc] = await run(
    gpu,
    (rec) => {
      layernormForward(rec, tx, g.t, b.t, ty, stats, EPS);
      layernormBackward(rec, tdy, tx, g.t, stats, tdx);
      layernormBackward(rec, tdy, tx, g.t, stats, tacc, { accumulate: true });
    },
    ty,
    stats.mean,
    stats.rstd,
    tdx,
    tacc,
  );
  const ref = layernormForwardRef(x, g.values, b.values, n, c, EPS);
  const dxRef = layernormBackwardRef(dy, x, g.values, n, c, EPS);
  return { y, mean, rstd, dx, acc, ref, dxRef, base };
}

describe('layernorm reference', () => {
  it('backward matches central finite differences of the forward', () => {
    const [n, c] = [3, 11];
    const x = randomArray(n * c, 1, 2);
    const g = randomArray(c, 2);
    const b = randomArray(c, 3);
    const dy = randomArray(n * c, 4);
    const loss = (v: Float64Array) => layernormForwardRef(v, g, b, n, c, EPS).y.reduce((s, y, i) => s + y * dy[i], 0);
    const idx = sampleIndices(n * c, 33);
    const fd = finiteDifference(loss, x, idx);
    const dx = layernormBackwardRef(dy, x, g, n, c, EPS);
    // Float64 central differences with h=1e-5: ~1e-10.
    expect(maxRelError(fd, idx.map((i) => dx[i]), 1e-6)).toBeLessThan(1e-6);
  });
});

for (const path of REDUCTION_PATHS) {
  describe(`layernorm on the GPU (${path})`, () => {
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      it(`forward and backward (= and +=) match the reference at 37×53 with ${dtype} weights`, async (ctx) => {
        const gpu = await pathGpu(path, ctx);
        const { y, mean, rstd, dx, acc, ref, dxRef, base } = await gpuLayernorm(gpu, 37, 53, dtype, 10);
        // f32 sums of 53 terms: ~ulp(8·53)/53 ≈ 6e-7 absolute on rows shifted by 8, ~1e-7 on the
        // others, whose means are near 0: floor 1 makes this absolute below |mean| = 1.
        expect(maxRelError(mean, ref.mean, 1)).toBeLessThan(1e-6);
        expect(maxRelError(rstd, ref.rstd)).toBeLessThan(4e-6);
        // (x − mean) carries the mean's error relative to a std of ~1.2, then a few roundings;
        // + b cancels to near 0 in places, so floor 1 (absolute below |y| = 1).
        expect(maxRelError(y, ref.y, 1)).toBeLessThan(2e-6);
        // dx subtracts terms of similar size: absolute ~1e-7 of terms ~1 (floor 1e-2).
        expect(maxRelError(dx, dxRef, 1e-2)).toBeLessThan(2e-5);
        // += adds one f32 rounding of the running value (|base| ≤ 1: ≤ 6e-8 absolute).
        expect(maxRelError(acc, dxRef.map((v, i) => v + base[i]), 1e-2)).toBeLessThan(2e-5);
      });
    }

    it('packs narrow rows into shared workgroups (C=53, 300 rows: 2 threads a row over 3 workgroups without subgroups)', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      expect(threadsPerRow(53)).toBe(2);
      const { y, mean, rstd, dx, acc, ref, dxRef, base } = await gpuLayernorm(gpu, 300, 53, 'f32', 30);
      // Same sums as at 37×53 (each row reduced by its own 2 threads): same tolerances.
      expect(maxRelError(mean, ref.mean, 1)).toBeLessThan(1e-6);
      expect(maxRelError(rstd, ref.rstd)).toBeLessThan(4e-6);
      expect(maxRelError(y, ref.y, 1)).toBeLessThan(2e-6);
      expect(maxRelError(dx, dxRef, 1e-2)).toBeLessThan(2e-5);
      expect(maxRelError(acc, dxRef.map((v, i) => v + base[i]), 1e-2)).toBeLessThan(2e-5);
    });

    it('handles rows wider than the workgroup (C=4099, several channels per thread)', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const { y, rstd, dx, ref, dxRef } = await gpuLayernorm(gpu, 3, 4099, 'f16', 20);
      // Longer f32 sums (4099 terms, strided then tree-reduced): a few times the 53-channel error.
      expect(maxRelError(rstd, ref.rstd)).toBeLessThan(1e-5);
      expect(maxRelError(y, ref.y, 1)).toBeLessThan(1e-5);
      expect(maxRelError(dx, dxRef, 1e-2)).toBeLessThan(5e-5);
    });
  });
}

describe('layernorm on the GPU', () => {
  it('reaches rows through a folded (x, y) workgroup grid and skips the excess', async () => {
    // More than 65,535 rows are folded by the recorder into x·y workgroups (tested with the
    // recorder); SwiftShader needs minutes for that many, so this records the same shader on a
    // small folded grid, 4×3 workgroups for 10 rows, with the uniforms layernormForward packs.
    const gpu = await testGpu();
    const [n, c] = [10, 53];
    const x = inputs(n, c, 40);
    const g = weight(gpu, 'test.g', c, 'f32', 1, 41);
    const b = weight(gpu, 'test.b', c, 'f32', 0, 42);
    const tx = f32Tensor(gpu, 'test.x', [n, c], x);
    const ty = emptyTensor(gpu, 'test.y', [n + 2, c]);
    const mean = emptyTensor(gpu, 'test.mean', [n + 2]);
    const rstd = emptyTensor(gpu, 'test.rstd', [n + 2]);
    const [y, r] = await run(
      gpu,
      (rec) =>
        rec.dispatch({
          label: 'layernorm folded',
          pipeline: { shaders: ['common', 'weights', 'rows', 'layernorm'], entry: 'layernorm_forward', constants: { WDTYPE: 0 } },
          uniforms: LAYERNORM_PARAMS.pack({ n, c, eps: EPS }),
          bindings: [tx, g.t, b.t, ty, mean, rstd],
          workgroups: [4, 3],
        }),
      ty,
      rstd,
    );
    const ref = layernormForwardRef(x, g.values, b.values, n, c, EPS);
    expect(maxRelError(y.subarray(0, n * c), ref.y, 1)).toBeLessThan(2e-6); // as at 37×53
    // Workgroups 10 and 11 are past the last row and must not write.
    expect(y.subarray(n * c).every((v) => v === 0) && r[n] === 0 && r[n + 1] === 0).toBe(true);
  });

  for (const [n, c] of [[37, 53], [3, 4099]] as const) {
    it(`the three paths agree at ${n}×${c}, and each repeats itself bitwise`, async (ctx) => {
      const gpu = await testGpu();
      if (!gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
      const out: Record<string, Float64Array[]> = {};
      for (const path of REDUCTION_PATHS) {
        await pathGpu(path, ctx);
        const first = await gpuLayernorm(gpu, n, c, 'f32', 70);
        const again = await gpuLayernorm(gpu, n, c, 'f32', 70);
        out[path] = [first.y, first.mean, first.rstd, first.dx];
        expect([again.y, again.mean, again.rstd, again.dx], path).toEqual(out[path]);
      }
      for (const path of REDUCTION_PATHS.slice(1)) {
        // Another summation order of the same f32 sums: a few ulps apart, relative to the largest value.
        out.workgroup.forEach((w, i) => expect(relToMax(out[path][i], w), `${path} output ${i}`).toBeLessThan(2e-6));
      }
    });
  }

  it('refuses mismatched weights, statistics and eps before encoding', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const x = emptyTensor(gpu, 'test.x', [2, 5, 8]);
    const g = emptyTensor(gpu, 'test.g', [8], 'f16');
    const stats = { mean: emptyTensor(gpu, 'test.mean', [2, 5]), rstd: emptyTensor(gpu, 'test.rstd', [2, 5]) };
    expect(() => layernormForward(rec, x, g, emptyTensor(gpu, 'test.b', [8], 'bf16'), x, stats, EPS)).toThrow(
      /layernorm: the bias is test.b bf16\[8\] but it must be f16 like the gain/,
    );
    expect(() => layernormForward(rec, x, g, emptyTensor(gpu, 'test.b9', [9], 'f16'), x, stats, EPS)).toThrow(
      /layernorm: bias is test.b9 f16\[9\] but \[8\] is needed/,
    );
    expect(() => layernormForward(rec, x, g, g, x, stats, -1)).toThrow(/eps is -1/);
    expect(() => layernormBackward(rec, x, x, g, { ...stats, rstd: emptyTensor(gpu, 'test.r', [10]) }, x)).toThrow(
      /layernorm backward: rstd is test.r f32\[10\] but \[2, 5\] is needed/,
    );
    expect(rec.length).toBe(0);
  });
});
