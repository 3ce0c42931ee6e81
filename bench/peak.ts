import type { Gpu } from '../src/gpu/device.ts';
import { uniforms } from '../src/gpu/recorder.ts';

const WG = 256;
/** Scalar FMAs per thread per loop iteration in shaders/peak.wgsl (8 chains × vec4). */
const FMAS_PER_ITER = 32;
/** Enough resident threads for the largest current GPUs (about 132 SMs × 2048 threads). */
const MAX_GROUPS = 4096;
const MAX_ITERS = 1 << 16;
/** One calibrated dispatch should last at least this long, so launch overhead is noise. */
const CALIBRATE_MS = 15;

/** A calibrated FMA workload, timed like any implementation: GFLOP/s = flops / (ms · 1e6). */
export interface PeakProbe {
  step(): void;
  drain(): Promise<void>;
  flops: number;
  dispose(): void;
}

/**
 * The adapter's f32 FMA throughput probe (2 FLOPs per FMA) with shaders/peak.wgsl. The work per
 * dispatch grows (workgroups first, to fill the device, then loop length) until one dispatch
 * takes CALIBRATE_MS; the bench then times it in turn with the implementations of each case.
 */
export async function peakProbe(gpu: Gpu): Promise<PeakProbe> {
  const out = gpu.pool.tensor('bench.peak', [MAX_GROUPS * WG]);
  let groups = 16;
  let iters = 256;
  const step = () => {
    const rec = gpu.recorder('bench.peak');
    rec.dispatch({
      label: 'peak fma',
      pipeline: { shaders: ['common', 'peak'], entry: 'peak' },
      uniforms: uniforms(iters, { f: 0.9999 }, { f: 1e-4 }),
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
  return { step, drain, flops: 2 * FMAS_PER_ITER * groups * WG * iters, dispose: () => gpu.pool.releaseTensor(out) };
}
