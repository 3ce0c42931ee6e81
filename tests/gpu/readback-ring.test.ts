import { countSubmitsAndStaging } from '../helpers/gpu-counters.ts';
import { describe, expect, it } from 'vitest';
import { createNodeGpu } from '../../src/gpu/node.ts';
import { READBACK_USAGE } from '../../src/gpu/pool.ts';
import { ReadbackRing } from '../../src/gpu/readback-ring.ts';
import { f32Tensor, testGpu } from '../helpers/gpu.ts';

const MAP_READ = 0x1;

describe('ReadbackRing', () => {
  it('carries each read in the recorder\'s one submit, reuses its slots only after they come back, and waits for the oldest when all are taken', async () => {
    const gpu = await testGpu();
    const src = f32Tensor(gpu, 'test.src', [2], [0, 0]);
    const before = gpu.pool.liveBytes;
    const ring = new ReadbackRing(gpu, 'test.ring', 8, 2);
    expect(gpu.pool.liveBytes - before).toBe(2 * 16);
    expect(gpu.pool.byOwner().readback).toBe(2 * 16);

    const { counts, restore } = countSubmitsAndStaging(gpu);
    try {
      const rec = gpu.recorder('test');
      const reads: Promise<ArrayBuffer>[] = [];
      const settled: boolean[] = [];
      let waits = 0;
      for (let i = 0; i < 7; i++) {
        if (i >= 2 && ring.inFlight === 2) {
          await ring.whenFree();
          waits++;
          expect(settled[i - 2]).toBe(true); // the oldest came back first
        }
        expect(ring.inFlight).toBeLessThan(2);
        gpu.pool.write(src, Float32Array.of(i, i + 0.5)); // ordered before the submit that copies it
        const read = ring.record(rec, [{ src, bytes: 4, srcOffset: 4 }, { src, bytes: 4 }]);
        rec.submit();
        settled.push(false);
        read.then(() => (settled[i] = true));
        reads.push(read);
      }
      expect(counts.submits).toBe(7); // the copies rode in the recorder's submits, nothing else was submitted
      const values = await Promise.all(reads.map(async (r) => [...new Float32Array(await r)]));
      expect(values).toEqual(Array.from({ length: 7 }, (_, i) => [i + 0.5, i]));
      expect(waits).toBeGreaterThan(0);
      expect(counts.staging).toBe(0); // no staging buffer beyond the ring's own
      // a slot reused while mapped or mapping would be a validation error here
      await gpu.sync('ring');

      // all slots taken and not awaited: recording again is refused with what to do
      ring.record(rec, [{ src, bytes: 8 }]);
      ring.record(rec, [{ src, bytes: 8 }]);
      expect(() => ring.record(rec, [{ src, bytes: 8 }])).toThrow(/all 2 slots are in flight; await whenFree\(\)/);
      const small = new ReadbackRing(gpu, 'test.small', 4, 1);
      expect(() => small.record(rec, [{ src, bytes: 8 }])).toThrow(/8 bytes asked for, a slot holds 4/);
      small.destroy();
      rec.submit();
      await ring.settled();
      expect(ring.inFlight).toBe(0);
      rec.destroy();
    } finally {
      restore();
    }
    ring.destroy();
    gpu.pool.releaseTensor(src);
  });

  it('closing it with a read in flight rejects that read with a clear message and returns its bytes to the pool', async () => {
    const gpu = await testGpu();
    const src = f32Tensor(gpu, 'test.src', [2], [1, 2]);
    const before = gpu.pool.liveBytes;
    const ring = new ReadbackRing(gpu, 'test.closing', 8);
    const rec = gpu.recorder('test');
    const read = ring.record(rec, [{ src, bytes: 8 }]);
    rec.submit();
    ring.destroy();
    await expect(read).rejects.toThrow(/cancelled because its buffers were closed/);
    expect(gpu.pool.liveBytes).toBe(before);
    await expect(ring.whenFree()).rejects.toThrow(/was closed/);
    // the destroyed buffers are not handed out again: a new read of the same size works
    const again = gpu.pool.alloc('readback.test', 8, READBACK_USAGE);
    expect(again.mapState).toBe('unmapped');
    await again.mapAsync(MAP_READ);
    again.unmap();
    gpu.pool.release(again);
    rec.destroy();
    gpu.pool.releaseTensor(src);
  });

  it('a lost device fails the read in flight with the device-lost message, and no new read starts', async () => {
    const gpu = await createNodeGpu();
    const src = f32Tensor(gpu, 'test.src', [2], [1, 2]);
    const ring = new ReadbackRing(gpu, 'test.lost', 8);
    const rec = gpu.recorder('test');
    const read = ring.record(rec, [{ src, bytes: 8 }]);
    rec.submit();
    gpu.device.destroy();
    await expect(read).rejects.toMatchObject({ name: 'GpuError', kind: 'device-lost', message: expect.stringMatching(/^The GPU device was closed/) });
    await expect(ring.whenFree()).rejects.toMatchObject({ kind: 'device-lost' });
    ring.destroy();
    gpu.pool.destroy();
  });
});
