import { describe, expect, it } from 'vitest';
import { deviceLostMessage, GpuError } from '../../src/gpu/errors.ts';
import { createNodeGpu } from '../../src/gpu/node.ts';
import { Profiler } from '../../src/gpu/profiler.ts';
import { addForward } from '../../src/kernels/residual.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('GPU runtime', () => {
  it('counts live and peak bytes per owner and reuses released buffers', async () => {
    const gpu = await createNodeGpu();
    const { pool } = gpu;
    const a = pool.alloc('acts.x', 1000); // rounded up to 1008 (16-byte multiple)
    const b = pool.alloc('acts.y', 64);
    const w = pool.alloc('weights.w', 4096);
    expect(pool.byOwner()).toEqual({ acts: 1008 + 64, weights: 4096 });
    expect(pool.liveBytes).toBe(1008 + 64 + 4096);
    pool.release(a);
    expect(pool.liveBytes).toBe(64 + 4096);
    expect(pool.peakBytes).toBe(1008 + 64 + 4096);
    // Same size and usage: the released buffer comes back instead of a new one.
    expect(pool.alloc('acts.z', 1001)).toBe(a);
    pool.release(b);
    pool.release(w);
    gpu.destroy();
  });

  it('refuses a buffer larger than the device allows, naming it and what to do', async () => {
    const gpu = await testGpu();
    const tooBig = gpu.device.limits.maxStorageBufferBindingSize + 16;
    expect(() => gpu.pool.alloc('activations.logits', tooBig)).toThrow(GpuError);
    expect(() => gpu.pool.alloc('activations.logits', tooBig)).toThrow(/'activations.logits' needs a .* buffer, but this GPU allows at most .*smaller model, batch size or sequence length/);
  });

  it('turns a GPU validation error into a readable error at sync', async () => {
    const gpu = await createNodeGpu();
    const good = gpu.pool.tensor('test.good', [4]);
    const out = gpu.pool.tensor('test.out', [4]);
    // A buffer without STORAGE usage cannot be bound as a storage buffer: Dawn reports a validation error.
    const bad = { label: 'test.bad', shape: [4], dtype: 'f32' as const, buffer: gpu.device.createBuffer({ size: 16, usage: 0x8 }) };
    const rec = gpu.recorder('broken step');
    addForward(rec, good, bad, out);
    rec.submit();
    const error = await gpu.sync('the broken step').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as GpuError).kind).toBe('validation');
    expect((error as GpuError).message).toMatch(/^the broken step failed on the GPU: .*CopyDst.*doesn't match expected usage/is);
    await gpu.sync('after'); // reported once, not again
    gpu.destroy();
  });

  it('refuses work on a lost device with a message for people', async () => {
    const gpu = await createNodeGpu();
    gpu.device.destroy();
    await gpu.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    const t = gpu.pool.tensor('test.t', [4]);
    const rec = gpu.recorder('after loss');
    addForward(rec, t, t, t);
    expect(() => rec.submit()).toThrow(/The GPU device was closed/);
    expect(deviceLostMessage('unknown', 'driver reset')).toMatch(/GPU stopped responding .*driver reset.*Your data and saved checkpoints are safe: reload the page and resume/);
  });

  it('profiles GPU time per kernel with timestamp queries', async () => {
    const gpu = await createNodeGpu();
    gpu.profiler = new Profiler(gpu.device);
    const a = gpu.pool.upload('test.a', [1000], 'f32', new Float32Array(1000).fill(1));
    const out = gpu.pool.tensor('test.out', [1000]);
    const out2 = gpu.pool.tensor('test.out2', [1000]);
    const rec = gpu.recorder('profiled');
    addForward(rec, a, a, out);
    addForward(rec, out, a, out2);
    rec.submit();
    await gpu.sync();
    const rows = await gpu.profiler.report();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kernel: 'residual:add_forward', count: 2, workgroups: 8 });
    expect(rows[0].ms).toBeGreaterThan(0);
    expect((await gpu.pool.readF32(out2))[999]).toBe(3);
    gpu.destroy();
  });
});
