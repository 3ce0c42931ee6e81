import type { DType } from '../gpu/tensor.ts';

/**
 * The WDTYPE override of shaders/weights.wgsl and weights_quant.wgsl for each dtype a frozen
 * weight may be stored in; undefined for dtypes that are not weight dtypes. Quantized dtypes are
 * read only by the matmul and embedding kernels.
 */
export const WDTYPE: Partial<Record<DType, number>> = {
  f32: 0, f16: 1, bf16: 2,
  q4_0: 3, q4_1: 4, q5_0: 5, q5_1: 6, q8_0: 7, q2_k: 8, q3_k: 9, q4_k: 10, q5_k: 11, q6_k: 12,
};

/** The WDTYPE of a float weight dtype (norm gains and biases are never quantized on the GPU). */
export function floatWdtype(dtype: DType): number | undefined {
  const w = WDTYPE[dtype];
  return w !== undefined && w < 3 ? w : undefined;
}
