import { describe, expect, it, vi } from 'vitest';
import { caseData, caseFlops, oursImpl } from '../../bench/kernels.ts';
import { tfjsImpl, tfjsOn } from '../../bench/tfjs.ts';
import { run as benchCommand } from '../../src/cli/commands/bench.ts';
import { loraFlops } from '../../src/kernels/lora.ts';
import { testGpu } from '../helpers/gpu.ts';
import { maxRelError } from '../helpers/numeric.ts';
import { dropoutMaskRef, loraBackwardRef, loraForwardRef } from '../reference/lora.ts';

const SHAPE = { m: 8, c: 16, r: 4 };

describe('benchmark', () => {
  it('runs the same LoRA computation in tsugiki and in tfjs on one device, both matching the reference', async () => {
    const gpu = await testGpu();
    const tf = await tfjsOn(gpu);
    const d = caseData(SHAPE);
    const dims = { m: SHAPE.m, k: SHAPE.c, n: SHAPE.c, r: SHAPE.r };
    const v = { x: d.x, w: d.w, a: d.a, b: d.b, scale: d.scale, mask: dropoutMaskRef(dims.m * dims.k, 0, 0) };
    const ref = { y: loraForwardRef(dims, v).y, ...loraBackwardRef(dims, v, d.dy) };
    const ours = oursImpl(gpu, 'lora', SHAPE, d);
    const peer = tfjsImpl(tf, gpu, 'lora', SHAPE, d);
    ours.step();
    await ours.drain();
    const a = await ours.outputs();
    const b = await peer.outputs();
    // f32 sums of ≤ 16 terms of size ≲ 1 on both sides: agreement to ~1e-6.
    for (const name of ['y', 'dx', 'da', 'db'] as const) {
      expect(maxRelError(a[name], ref[name], 1e-2), `tsugiki ${name}`).toBeLessThan(1e-5);
      expect(maxRelError(b[name], ref[name], 1e-2), `tfjs ${name}`).toBeLessThan(1e-5);
    }
    ours.dispose();
    peer.dispose();
    expect(caseFlops('lora', SHAPE)).toBe(loraFlops(8, 16, 16, 4));
    expect(caseFlops('matmul', SHAPE)).toBe(2 * 8 * 16 * 16);
  });

  it('prints the JSON report of the quick benchmark at one tiny shape', async () => {
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await benchCommand(['--json', '--quick', '--rows', '8', '--sizes', '16', '--ranks', '4']);
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(typeof report.adapter).toBe('string');
    expect(report.peak_gflops).toBeGreaterThan(0);
    expect(report.cases.map((c: { name: string }) => c.name)).toEqual(['matmul x·Wᵀ', 'lora fwd+bwd r=4']);
    expect(report.cases[0].shape).toEqual({ M: 8, K: 16, N: 16 });
    expect(report.cases[1].shape).toEqual({ M: 8, K: 16, N: 16, R: 4 });
    for (const c of report.cases) {
      expect(c.gflops).toBeGreaterThan(0);
      expect(c.tfjs_gflops).toBeGreaterThan(0);
      // Ratios are consistent with the absolute numbers (up to float rounding).
      expect(c.vs_tfjs).toBeCloseTo(c.gflops / c.tfjs_gflops, 9);
      expect(c.vs_peak).toBeCloseTo(c.gflops / report.peak_gflops, 9);
      // tsugiki's and tfjs's outputs agree elementwise: f32 sums of 16 terms in different orders
      // differ by ~16·2^-24 of the largest values, measured against a floor of 1% of the largest.
      expect(c.max_rel_diff).toBeLessThan(1e-4);
    }
  });

  it('refuses a malformed size list', async () => {
    await expect(benchCommand(['--sizes', '64,x'])).rejects.toThrow(/--sizes 64,x: expected whole numbers/);
  });
});
