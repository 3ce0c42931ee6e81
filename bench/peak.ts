import type { Gpu } from '../src/gpu/device.ts';
import { uniforms } from '../src/gpu/recorder.ts';
import { timePerIteration, type TimingOptions } from './timing.ts';

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

/** Workgroup counts the read probe tries: few long-running threads suit CPU adapters, many GPUs. */
const READ_GROUPS = [8, 64, 512, 4096];

/**
 * The adapter's memory read bandwidth in GB/s (1e9 bytes/s), measured with shaders/peak_read.wgsl
 * reading `bytes` (rounded down to 16-byte words, at most one binding) once per run, the best of
 * a few grid sizes: the bound a kernel that streams a weight of that size from memory can reach.
 */
export async function measureReadBandwidth(gpu: Gpu, bytes: number, timing: TimingOptions): Promise<{ gbs: number; bytes: number }> {
  const vec4s = Math.floor(Math.min(bytes, gpu.device.limits.maxStorageBufferBindingSize) / 16);
  const src = gpu.pool.tensor('bench.read.src', [vec4s * 4], 'u32');
  const out = gpu.pool.tensor('bench.read.out', [Math.max(...READ_GROUPS) * WG], 'u32');
  const rec = gpu.recorder('bench.read');
  const drain = () => gpu.sync('read bandwidth benchmark');
  let best = 0;
  try {
    for (const groups of READ_GROUPS) {
      const step = () => {
        rec.dispatch({
          label: 'peak read',
          pipeline: { shaders: ['common', 'peak_read'], entry: 'peak_read' },
          uniforms: uniforms(vec4s, groups * WG),
          bindings: [src, out],
          workgroups: [groups],
        });
        rec.submit();
      };
      step();
      await drain();
      best = Math.max(best, (vec4s * 16) / ((await timePerIteration(step, drain, timing)) * 1e6));
    }
  } finally {
    rec.destroy();
    gpu.pool.releaseTensor(src);
    gpu.pool.releaseTensor(out);
  }
  return { gbs: best, bytes: vec4s * 16 };
}
