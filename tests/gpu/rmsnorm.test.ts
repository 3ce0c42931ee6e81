import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import type { DType, Tensor } from '../../src/gpu/tensor.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';
import { RMSNORM_PARAMS, rmsnormBackward, rmsnormForward } from '../../src/kernels/rmsnorm.ts';
import { emptyTensor, f32Tensor, pathGpu, REDUCTION_PATHS, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, maxRelError, randomArray, relToMax, sampleIndices } from '../helpers/numeric.ts';
import { rmsnormBackwardRef, rmsnormForwardRef } from '../reference/rmsnorm.ts';

const EPS = 1e-5;

/** A gain [C] around 1 uploaded in `dtype`, and its values as the GPU decodes them. */
function gain(gpu: Gpu, c: number, dtype: DType, seed: number): { t: Tensor; values: Float64Array } {
  const f32 = Float32Array.from(randomArray(c, seed, 0.5), (v) => 1 + v);
  if (dtype === 'f32') return { t: gpu.pool.upload('test.g', [c], 'f32', f32), values: Float64Array.from(f32) };
  const bits = dtype === 'f16' ? f32ToF16(f32) : f32ToBf16(f32);
  return { t: gpu.pool.upload('test.g', [c], dtype, bits), values: Float64Array.from(dtype === 'f16' ? f16ToF32(bits) : bf16ToF32(bits)) };
}

/** Forward then backward (dx written, then dx added onto `base`) on the GPU, read back. */
async function gpuRmsnorm(gpu: Gpu, n: number, c: number, dtype: DType, seed: number) {
  const x = randomArray(n * c, seed, 2);
  const dy = randomArray(n * c, seed + 1);
  const base = randomArray(n * c, seed + 2);
  const g = gain(gpu, c, dtype, seed + 3);
  const tx = f32Tensor(gpu, 'test.x', [n, c], x);
  const tdy = f32Tensor(gpu, 'test.dy', [n, c], dy);
  const ty = emptyTensor(gpu, 'test.y', [n, c]);
  const tr = emptyTensor(gpu, 'test.rstd', [n]);
  const tdx = emptyTensor(gpu, 'test.dx', [n, c]);
  const tacc = f32Tensor(gpu, 'test.acc', [n, c], base);
  const [y, rstd, dx, acc] = await run(
    gpu,
    (rec) => {
      rmsnormForward(rec, tx, g.t, ty, tr, EPS);
      rmsnormBackward(rec, tdy, tx, g.t, tr, tdx);
      rmsnormBackward(rec, tdy, tx, g.t, tr, tacc, { accumulate: true });
    },
    ty,
    tr,
    tdx,
    tacc,
  );
  const ref = rmsnormForwardRef(x, g.values, n, c, EPS);
  const dxRef = rmsnormBackwardRef(dy, x, g.values, n, c, EPS);
  return { y, rstd, dx, acc, ref, dxRef, base };
}

describe('rmsnorm reference', () => {
  it('backward matches central finite differences of the forward', () => {
    const [n, c] = [3, 11];
    const x = randomArray(n * c, 1, 2);
    const g = randomArray(c, 2);
    const dy = randomArray(n * c, 3);
    const loss = (v: Float64Array) => rmsnormForwardRef(v, g, n, c, EPS).y.reduce((s, y, i) => s + y * dy[i], 0);
    const idx = sampleIndices(n * c, 33);
    const fd = finiteDifference(loss, x, idx);
    const dx = rmsnormBackwardRef(dy, x, g, n, c, EPS);
    // Float64 central differences with h=1e-5: ~1e-10.
    expect(maxRelError(fd, idx.map((i) => dx[i]), 1e-6)).toBeLessThan(1e-6);
  });
});

for (const path of REDUCTION_PATHS) {
  describe(`rmsnorm on the GPU (${path})`, () => {
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      it(`forward and backward (= and +=) match the reference at 37×53 with an ${dtype} gain`, async (ctx) => {
        const gpu = await pathGpu(path, ctx);
        const { y, rstd, dx, acc, ref, dxRef, base } = await gpuRmsnorm(gpu, 37, 53, dtype, 10);
        // f32 sum of 53 squares and a few roundings per element: ~1e-6 relative. The reference
        // decodes the gain exactly as the GPU does, so the stored dtype adds no error.
        expect(maxRelError(rstd, ref.rstd)).toBeLessThan(2e-6);
        expect(maxRelError(y, ref.y)).toBeLessThan(4e-6);
        // dx subtracts two terms of similar size: absolute error ~1e-6 of the terms (floor 1e-2).
        expect(maxRelError(dx, dxRef, 1e-2)).toBeLessThan(1e-5);
        // += adds one f32 rounding of the running value (|base| ≤ 1: ≤ 6e-8 absolute).
        expect(maxRelError(acc, dxRef.map((v, i) => v + base[i]), 1e-2)).toBeLessThan(2e-5);
      });
    }

    it('handles rows wider than the workgroup (C=4099, several channels per thread)', async (ctx) => {
      const gpu = await pathGpu(path, ctx);
      const { y, rstd, dx, ref, dxRef } = await gpuRmsnorm(gpu, 3, 4099, 'bf16', 20);
      // Longer f32 sums (4099 terms, tree-reduced): still ~1e-6 relative.
      expect(maxRelError(rstd, ref.rstd)).toBeLessThan(4e-6);
      expect(maxRelError(y, ref.y)).toBeLessThan(8e-6);
      expect(maxRelError(dx, dxRef, 1e-2)).toBeLessThan(2e-5);
    });

    for (const [rows, d] of [[37 * 3, 24], [5 * 4, 300]] as const) {
      it(`plusOne (Gemma's 1 + w) on per-head rows [N·H, D] = ${rows}×${d} (q_norm / k_norm), bf16 weights near 0`, async (ctx) => {
        const gpu = await pathGpu(path, ctx);
        const x = randomArray(rows * d, 50, 2);
        const dy = randomArray(rows * d, 51);
        const bits = f32ToBf16(Float32Array.from(randomArray(d, 52, 0.3)));
        const w = Float64Array.from(bf16ToF32(bits));
        const g = gpu.pool.upload('test.w', [d], 'bf16', bits);
        const [tx, tdy] = [f32Tensor(gpu, 'test.x', [rows, d], x), f32Tensor(gpu, 'test.dy', [rows, d], dy)];
        const [ty, tdx] = [emptyTensor(gpu, 'test.y', [rows, d]), emptyTensor(gpu, 'test.dx', [rows, d])];
        const tr = emptyTensor(gpu, 'test.rstd', [rows]);
        const [y, dx] = await run(gpu, (rec) => {
          rmsnormForward(rec, tx, g, ty, tr, EPS, { plusOne: true });
          rmsnormBackward(rec, tdy, tx, g, tr, tdx, { plusOne: true });
        }, ty, tdx);
        // The reference with the gain 1 + w (Gemma3RMSNorm, computed in f32 from the stored w).
        const gain1 = w.map((v) => 1 + v);
        expect(maxRelError(y, rmsnormForwardRef(x, gain1, rows, d, EPS).y)).toBeLessThan(8e-6);
        expect(maxRelError(dx, rmsnormBackwardRef(dy, x, gain1, rows, d, EPS), 1e-2)).toBeLessThan(2e-5);
      });
    }
  });
}

describe('rmsnorm on the GPU', () => {
  it('reaches rows through a folded (x, y) workgroup grid and skips the excess', async () => {
    // More than 65,535 rows are folded by the recorder into x·y workgroups (tested with the
    // recorder); SwiftShader needs minutes for that many, so this records the same shader on a
    // small folded grid, 4×3 workgroups for 10 rows, with the uniforms rmsnormForward packs.
    const gpu = await testGpu();
    const [n, c] = [10, 53];
    const x = randomArray(n * c, 40, 2);
    const g = gain(gpu, c, 'f32', 41);
    const tx = f32Tensor(gpu, 'test.x', [n, c], x);
    const ty = emptyTensor(gpu, 'test.y', [n + 2, c]);
    const tr = emptyTensor(gpu, 'test.rstd', [n + 2]);
    const [y, rstd] = await run(
      gpu,
      (rec) =>
        rec.dispatch({
          label: 'rmsnorm folded',
          pipeline: { shaders: ['common', 'weights', 'rows', 'rmsnorm'], entry: 'rmsnorm_forward', constants: { WDTYPE: 0 } },
          uniforms: RMSNORM_PARAMS.pack({ n, c, eps: EPS }),
          bindings: [tx, g.t, ty, tr],
          workgroups: [4, 3],
        }),
      ty,
      tr,
    );
    const ref = rmsnormForwardRef(x, g.values, n, c, EPS);
    expect(maxRelError(y.subarray(0, n * c), ref.y)).toBeLessThan(4e-6); // as at 37×53
    expect(maxRelError(rstd.subarray(0, n), ref.rstd)).toBeLessThan(2e-6);
    // Workgroups 10 and 11 are past the last row and must not write.
    expect(y.subarray(n * c).every((v) => v === 0) && rstd[n] === 0 && rstd[n + 1] === 0).toBe(true);
  });

  it('reaches rows through a folded grid on subgroups too (a row per workgroup: 4×3 for 10 rows)', async (ctx) => {
    const gpu = await pathGpu('subgroup workgroups', ctx);
    const [n, c] = [10, 53];
    const x = randomArray(n * c, 42, 2);
    const g = gain(gpu, c, 'f32', 43);
    const tx = f32Tensor(gpu, 'test.x', [n, c], x);
    const ty = emptyTensor(gpu, 'test.y', [n + 2, c]);
    const tr = emptyTensor(gpu, 'test.rstd', [n + 2]);
    const [y, rstd] = await run(
      gpu,
      (rec) =>
        rec.dispatch({
          label: 'rmsnorm folded',
          pipeline: { shaders: ['common', 'weights', 'rows_subgroups', 'rmsnorm'], entry: 'rmsnorm_forward', constants: { WDTYPE: 0, ROWS: 1 }, subgroups: true },
          uniforms: RMSNORM_PARAMS.pack({ n, c, eps: EPS }),
          bindings: [tx, g.t, ty, tr],
          workgroups: [4, 3],
        }),
      ty,
      tr,
    );
    const ref = rmsnormForwardRef(x, g.values, n, c, EPS);
    expect(maxRelError(y.subarray(0, n * c), ref.y)).toBeLessThan(4e-6);
    expect(maxRelError(rstd.subarray(0, n), ref.rstd)).toBeLessThan(2e-6);
    expect(y.subarray(n * c).every((v) => v === 0) && rstd[n] === 0 && rstd[n + 1] === 0).toBe(true);
  });

  for (const [n, c] of [[37, 53], [70, 300], [3, 4099]] as const) {
    it(`the three paths agree at ${n}×${c}, and each repeats itself bitwise`, async (ctx) => {
      const gpu = await testGpu();
      if (!gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
      const out: Record<string, Float64Array[]> = {};
      for (const path of REDUCTION_PATHS) {
        await pathGpu(path, ctx);
        const first = await gpuRmsnorm(gpu, n, c, 'bf16', 60);
        const again = await gpuRmsnorm(gpu, n, c, 'bf16', 60);
        out[path] = [first.y, first.rstd, first.dx];
        expect([again.y, again.rstd, again.dx], path).toEqual(out[path]);
      }
      const [y, rstd, dx] = out.workgroup;
      for (const path of REDUCTION_PATHS.slice(1)) {
        // Another summation order of the same f32 sums: a few ulps apart, relative to the largest value.
        expect(relToMax(out[path][0], y), path).toBeLessThan(1e-6);
        expect(relToMax(out[path][1], rstd), path).toBeLessThan(1e-6);
        expect(relToMax(out[path][2], dx), path).toBeLessThan(2e-6);
      }
    });
  }

  it('refuses mismatched gains, saved rstd, eps and dtypes before encoding', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const x = emptyTensor(gpu, 'test.x', [2, 5, 8]);
    const g = emptyTensor(gpu, 'test.g', [8], 'bf16');
    const r = emptyTensor(gpu, 'test.rstd', [2, 5]);
    expect(() => rmsnormForward(rec, x, emptyTensor(gpu, 'test.g7', [7]), x, r, EPS)).toThrow(
      /rmsnorm: the gain is test.g7 f32\[7\] but \[8\] in f32, f16 or bf16 is needed/,
    );
    expect(() => rmsnormForward(rec, x, g, x, emptyTensor(gpu, 'test.r10', [10]), EPS)).toThrow(
      /rmsnorm: rstd is test.r10 f32\[10\] but \[2, 5\] is needed/,
    );
    expect(() => rmsnormForward(rec, x, g, x, r, Number.NaN)).toThrow(/eps is NaN/);
    expect(() => rmsnormBackward(rec, emptyTensor(gpu, 'test.dyh', [2, 5, 8], 'f16'), x, g, r, x)).toThrow(
      /rmsnorm backward: dy is test.dyh f16\[2, 5, 8\] but one of f32 is needed/,
    );
    expect(rec.length).toBe(0);
  });
});
