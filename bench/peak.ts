import type { Gpu } from '../src/gpu/device.ts';
import { uniformBlock } from '../src/gpu/uniform-block.ts';
import { gflops, timePerIteration, type TimingOptions } from './timing.ts';

const WG = 256;
/** shaders/peak.wgsl's uniforms: loop length, and the FMA's multiplier and addend. */
export const PEAK_PARAMS = uniformBlock('peak', 'Params', { iters: 'u32', mul: 'f32', add: 'f32' });
/** Scalar FMAs per thread per loop iteration in shaders/peak.wgsl (8 chains × vec4). */
const FMAS_PER_ITER = 32;
/** Enough resident threads for the largest current GPUs (about 132 SMs × 2048 threads). */
const MAX_GROUPS = 4096;
const MAX_ITERS = 1 << 16;
/** One calibrated dispatch should last at least this long, so launch overhead is noise. */
const CALIBRATE_MS = 15;

/**
 * The adapter's f32 FMA throughput in GFLOP/s (2 FLOPs per FMA), measured with shaders/peak.wgsl.
 * The work per dispatch grows (workgroups first, to fill the device, then loop length) until one
 * dispatch takes CALIBRATE_MS, then it is timed like any other case.
 */
export async function measurePeak(gpu: Gpu, timing: TimingOptions): Promise<number> {
  const out = gpu.pool.tensor('bench.peak', [MAX_GROUPS * WG]);
  let groups = 16;
  let iters = 256;
  const step = () => {
    const rec = gpu.recorder('bench.peak');
    rec.dispatch({
      label: 'peak fma',
      pipeline: { shaders: ['common', 'peak'], entry: 'peak' },
      uniforms: PEAK_PARAMS.pack({ iters, mul: 0.9999, add: 1e-4 }),
      bindings: [out],
      workgroups: [groups],
    });
    rec.submit();
    rec.destroy();
  };
  const drain = () => gpu.sync('peak benchmark');
  step();
  await drain();
  for (;;) {
    const t0 = performance.now();
    step();
    await drain();
    const ms = performance.now() - t0;
    if (ms >= CALIBRATE_MS || (groups >= MAX_GROUPS && iters >= MAX_ITERS)) break;
    const grow = Math.min(16, Math.max(2, Math.ceil(CALIBRATE_MS / Math.max(ms, 0.05))));
    if (groups < MAX_GROUPS) groups = Math.min(MAX_GROUPS, groups * grow);
    else iters = Math.min(MAX_ITERS, iters * grow);
  }
  const ms = await timePerIteration(step, drain, timing);
  gpu.pool.releaseTensor(out);
  return gflops(2 * FMAS_PER_ITER * groups * WG * iters, ms);
}
