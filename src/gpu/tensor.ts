import { quantBlock, QUANT_NAMES, type QuantName } from '../io/ggml-types.ts';

/**
 * Element types a GPU buffer can hold. Frozen weights keep f16/bf16, or ggml's quantized blocks
 * (byte-packed, whole blocks along the last dimension, decoded in the kernels); compute is f32.
 */
export type ElementDType = 'f32' | 'f16' | 'bf16' | 'u32' | 'i32';
export type DType = ElementDType | QuantName;

export const DTYPE_BYTES: Record<ElementDType, number> = { f32: 4, f16: 2, bf16: 2, u32: 4, i32: 4 };

export function isQuantDType(dtype: DType): dtype is QuantName {
  return (QUANT_NAMES as string[]).includes(dtype);
}

/** A typed, shaped view of a whole GPU buffer. Row-major, last dimension fastest. */
export interface Tensor {
  readonly label: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly buffer: GPUBuffer;
  /** Start of the tensor inside `buffer` (a multiple of 256 bytes); 0 when it owns the buffer. */
  readonly byteOffset?: number;
  /**
   * A frozen weight [N, K] bigger than one binding may be: its rows split into consecutive windows,
   * each its own tensor [rows_i, K] (Σ rows_i = N). `buffer` is then the first window's; the matmul
   * and embedding kernels loop over the windows.
   */
  readonly rowWindows?: readonly Tensor[];
}

/**
 * A tensor that lives inside another buffer, e.g. one LoRA matrix inside the flat parameter
 * buffer that the optimizer updates in a single dispatch. Offsets must be 256-byte aligned
 * (WebGPU's minStorageBufferOffsetAlignment).
 */
export function viewOf(buffer: GPUBuffer, label: string, shape: readonly number[], dtype: DType, byteOffset: number): Tensor {
  if (byteOffset % 256 !== 0) throw new Error(`view '${label}': byte offset ${byteOffset} is not a multiple of 256.`);
  if (byteOffset + tensorBytes(shape, dtype) > buffer.size) {
    throw new Error(`view '${label}': ${dtype}[${shape.join(', ')}] at byte ${byteOffset} runs past the ${buffer.size}-byte buffer.`);
  }
  return { label, shape: [...shape], dtype, buffer, byteOffset };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(shape: readonly number[], dtype: DType): number {
  if (!isQuantDType(dtype)) return numel(shape) * DTYPE_BYTES[dtype];
  const { blockSize, typeSize } = quantBlock(dtype);
  const last = shape[shape.length - 1] ?? 1;
  if (last % blockSize !== 0) throw new Error(`tensorBytes: ${dtype}[${shape.join(', ')}] rows of ${last} are not whole ${blockSize}-element blocks.`);
  return (numel(shape) / blockSize) * typeSize;
}

export function describe(t: Tensor): string {
  return `${t.label} ${t.dtype}[${t.shape.join(', ')}]`;
}

/** Throws a readable error when a tensor's shape or dtype is not the one an op expects. */
export function expectShape(op: string, name: string, t: Tensor, shape: readonly number[], dtypes?: readonly DType[]): void {
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!ok) throw new Error(`${op}: ${name} is ${describe(t)} but [${shape.join(', ')}] is needed.`);
  if (dtypes && !dtypes.includes(t.dtype)) {
    throw new Error(`${op}: ${name} is ${describe(t)} but one of ${dtypes.join('/')} is needed.`);
  }
}
