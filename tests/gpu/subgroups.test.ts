import { describe, expect, it } from 'vitest';
import { runReductionBench } from '../../bench/reductions.ts';
import { createNodeGpu } from '../../src/gpu/node.ts';
import { moduleSource, SUBGROUP_DIRECTIVES } from '../../src/gpu/pipelines.ts';
import { rowLayout } from '../../src/kernels/rows.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('subgroups on the device', () => {
  it('are requested where the adapter has them and can be turned off per device', async (ctx) => {
    const gpu = await testGpu();
    if (!gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
    expect(gpu.device.features.has('subgroups')).toBe(true);
    expect(gpu.features.subgroups).toBe(true);
    expect(gpu.adapter.subgroupMinSize).toBeGreaterThanOrEqual(4);
    expect(gpu.adapter.subgroupMaxSize).toBeGreaterThanOrEqual(gpu.adapter.subgroupMinSize);
    const plain = await createNodeGpu({ subgroups: false });
    try {
      expect(plain.device.features.has('subgroups')).toBe(false);
      expect(plain.features.subgroups).toBe(false);
      expect(() => (plain.subgroups = true)).toThrow(/has no WebGPU subgroups .* through workgroup memory here/);
      // A pipeline that asks for them on such a device is refused with its entry point named.
      expect(() => plain.pipelines.get({ shaders: ['common', 'rows_subgroups', 'cross_entropy_sum'], entry: 'cross_entropy_sum', subgroups: true })).toThrow(
        /cross_entropy_sum: the pipeline uses subgroup operations but the device was created without the 'subgroups' feature/,
      );
    } finally {
      plain.destroy();
    }
  });

  it('put the directives before the sources only for pipelines that ask', () => {
    const key = { shaders: ['common', 'rows_subgroups'], entry: 'x' };
    expect(moduleSource({ ...key, subgroups: true }).startsWith(SUBGROUP_DIRECTIVES)).toBe(true);
    expect(moduleSource({ ...key, shaders: ['common', 'rows'] })).not.toMatch(/enable subgroups/);
  });

  it('lay rows out a subgroup each up to the row limit, a workgroup each past it', async (ctx) => {
    const gpu = await testGpu();
    if (!gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
    const { subgroupMinSize: lo, subgroupMaxSize: hi } = gpu.adapter;
    const before = [gpu.subgroupRowMax, gpu.threadRowMax] as const;
    try {
      gpu.subgroupRowMax = 2048;
      // As many rows a workgroup as it has subgroups at the smallest size, passes for the largest.
      expect(rowLayout(gpu, 1000, 2048, 8)).toEqual({
        helper: 'rows_subgroups', subgroups: true, constants: { ROWS: 256 / lo, ROW_PASSES: Math.ceil((256 / lo) / (256 / hi)) }, workgroups: Math.ceil(1000 / (256 / lo)),
      });
      expect(rowLayout(gpu, 1000, 2049, 8)).toEqual({ helper: 'rows_subgroups', subgroups: true, constants: { ROWS: 1, ROW_PASSES: 1 }, workgroups: 1000 });
      // A thread per row stays up to threadRowMax (CPU adapters), and only a thread per row.
      gpu.threadRowMax = 256;
      expect(rowLayout(gpu, 1000, 256, 1)).toEqual({ helper: 'rows', subgroups: false, constants: { TPR: 1 }, workgroups: 4 });
      expect(rowLayout(gpu, 1000, 257, 1).helper).toBe('rows_subgroups');
      expect(rowLayout(gpu, 1000, 256, 2).helper).toBe('rows_subgroups');
      gpu.threadRowMax = 0;
      expect(rowLayout(gpu, 1000, 256, 1).helper).toBe('rows_subgroups');
      gpu.subgroups = false;
      expect(rowLayout(gpu, 1000, 2049, 8)).toEqual({ helper: 'rows', subgroups: false, constants: { TPR: 8 }, workgroups: 32 });
    } finally {
      gpu.subgroups = true;
      [gpu.subgroupRowMax, gpu.threadRowMax] = before;
    }
  });

  it('the reduction benchmark times both paths and finds their outputs a few ulps apart', async (ctx) => {
    const gpu = await testGpu();
    if (!gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
    const cases = await runReductionBench(gpu, { rows: 37, widths: [53], vocabs: [300], timing: { warmup: 0, targetMs: 1, maxIters: 1, rounds: 1 }, repeat: 1 });
    expect(cases.map((c) => c.name)).toEqual(['rmsnorm forward', 'rmsnorm backward', 'layernorm forward', 'layernorm backward', 'cross-entropy forward']);
    for (const c of cases) {
      expect(c.workgroup_ms, c.name).toBeGreaterThan(0);
      expect(c.subgroups_ms, c.name).toBeGreaterThan(0);
      expect(c.max_rel_diff, c.name).toBeLessThan(2e-6);
    }
    expect(gpu.subgroups).toBe(true); // put back as it was
  });
});
