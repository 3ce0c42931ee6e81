import type { DType } from '../gpu/tensor.ts';

/**
 * The WDTYPE override of shaders/weights.wgsl for each dtype a frozen weight may be stored in;
 * undefined for dtypes that are not weight dtypes.
 */
export const WDTYPE: Partial<Record<DType, number>> = { f32: 0, f16: 1, bf16: 2 };
