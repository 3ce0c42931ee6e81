import type { Gpu } from '../../src/gpu/device.ts';
import { createNodeGpu } from '../../src/gpu/node.ts';
import type { DType, Tensor } from '../../src/gpu/tensor.ts';

let shared: Promise<Gpu> | null = null;

/** One Dawn device per test file (vitest runs each file in its own process). */
export function testGpu(): Promise<Gpu> {
  shared ??= createNodeGpu();
  return shared;
}

/** Uploads f32 data (given as float64 values) under a test label. */
export function f32Tensor(gpu: Gpu, label: string, shape: number[], data: ArrayLike<number>): Tensor {
  return gpu.pool.upload(label, shape, 'f32', Float32Array.from(data));
}

export function emptyTensor(gpu: Gpu, label: string, shape: number[], dtype: DType = 'f32'): Tensor {
  const t = gpu.pool.tensor(label, shape, dtype);
  const bytes = new Uint8Array(Math.ceil(t.buffer.size / 4) * 4);
  gpu.device.queue.writeBuffer(t.buffer, 0, bytes);
  return t;
}

/** Submits what was recorded, waits, surfaces GPU errors and reads tensors back as float64 arrays. */
export async function run(gpu: Gpu, record: (rec: ReturnType<Gpu['recorder']>) => void, ...outputs: Tensor[]): Promise<Float64Array[]> {
  const rec = gpu.recorder('test');
  record(rec);
  rec.submit();
  await gpu.sync('test');
  const out = await Promise.all(outputs.map((t) => gpu.pool.readF32(t)));
  rec.destroy();
  return out.map((a) => Float64Array.from(a));
}

/**
 * The ways the reduction kernels (norms, cross-entropy, gradient norm) run: through workgroup
 * memory, or with subgroups, a row per subgroup or a row per workgroup (shaders/rows_subgroups.wgsl).
 */
export const REDUCTION_PATHS = ['workgroup', 'subgroup rows', 'subgroup workgroups'] as const;
export type ReductionPath = (typeof REDUCTION_PATHS)[number];

/** The test device switched to `path`; the test is skipped where the device has no subgroups. */
export async function pathGpu(path: ReductionPath, ctx: { skip: (note?: string) => never }): Promise<Gpu> {
  const gpu = await testGpu();
  if (path !== 'workgroup' && !gpu.adapter.subgroups) ctx.skip('this device has no WebGPU subgroups');
  gpu.subgroups = path !== 'workgroup';
  gpu.subgroupRowMax = path === 'subgroup workgroups' ? 0 : Infinity;
  gpu.threadRowMax = 0;
  return gpu;
}
