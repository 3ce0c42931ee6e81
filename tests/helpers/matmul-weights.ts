import type { Gpu } from '../../src/gpu/device.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';

export type WeightDType = 'f32' | 'f16' | 'bf16';

/**
 * Uploads a weight in the given precision and returns the exact values the GPU will see
 * (f16/bf16 stored as 16-bit patterns, decoded back), so references can use them unchanged.
 */
export function weightTensor(gpu: Gpu, label: string, shape: number[], values: ArrayLike<number>, dtype: WeightDType): { t: Tensor; exact: Float64Array } {
  const f32 = Float32Array.from(values);
  if (dtype === 'f32') return { t: gpu.pool.upload(label, shape, 'f32', f32), exact: Float64Array.from(f32) };
  const bits = dtype === 'f16' ? f32ToF16(f32) : f32ToBf16(f32);
  const exact = Float64Array.from(dtype === 'f16' ? f16ToF32(bits) : bf16ToF32(bits));
  return { t: gpu.pool.upload(label, shape, dtype, bits), exact };
}
