/**
 * ggml tensor types as stored in GGUF files: id → name, block size (elements) and block byte size.
 * From llama.cpp gguf-py `gguf/constants.py` (GGMLQuantizationType, GGML_QUANT_SIZES).
 */

export interface GgmlType {
  name: string;
  /** Elements per block (1 for plain types). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const QK_K = 256;

export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map(
  (
    [
      [0, 'F32', 1, 4],
      [1, 'F16', 1, 2],
      [2, 'Q4_0', 32, 2 + 16],
      [3, 'Q4_1', 32, 2 + 2 + 16],
      [6, 'Q5_0', 32, 2 + 4 + 16],
      [7, 'Q5_1', 32, 2 + 2 + 4 + 16],
      [8, 'Q8_0', 32, 2 + 32],
      [9, 'Q8_1', 32, 4 + 4 + 32],
      [10, 'Q2_K', QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
      [11, 'Q3_K', QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
      [12, 'Q4_K', QK_K, 2 + 2 + QK_K / 2 + 12],
      [13, 'Q5_K', QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
      [14, 'Q6_K', QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
      [15, 'Q8_K', QK_K, 4 + QK_K + QK_K / 8],
      [16, 'IQ2_XXS', QK_K, 2 + QK_K / 4],
      [17, 'IQ2_XS', QK_K, 2 + QK_K / 4 + QK_K / 32],
      [18, 'IQ3_XXS', QK_K, 2 + QK_K / 4 + QK_K / 8],
      [19, 'IQ1_S', QK_K, 2 + QK_K / 8 + QK_K / 16],
      [20, 'IQ4_NL', 32, 2 + 16],
      [21, 'IQ3_S', QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
      [22, 'IQ2_S', QK_K, 2 + QK_K / 4 + QK_K / 16],
      [23, 'IQ4_XS', QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
      [24, 'I8', 1, 1],
      [25, 'I16', 1, 2],
      [26, 'I32', 1, 4],
      [27, 'I64', 1, 8],
      [28, 'F64', 1, 8],
      [29, 'IQ1_M', QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
      [30, 'BF16', 1, 2],
      [34, 'TQ1_0', QK_K, 2 + 4 * 13],
      [35, 'TQ2_0', QK_K, 2 + 64],
      [39, 'MXFP4', 32, 1 + 16],
    ] as const
  ).map(([id, name, blockSize, typeSize]) => [id, { name, blockSize, typeSize }]),
);

export const GGML_F32 = 0;
export const GGML_F16 = 1;
export const GGML_BF16 = 30;

/**
 * The quantized types tsugiki reads and keeps quantized on the GPU, by the lower-case name the
 * engine uses as a dtype (`q4_k`), with their ggml type ids. Every other quantized type is refused.
 */
export const QUANT_TYPE_IDS = {
  q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, q2_k: 10, q3_k: 11, q4_k: 12, q5_k: 13, q6_k: 14,
} as const;

export type QuantName = keyof typeof QUANT_TYPE_IDS;

export const QUANT_NAMES = Object.keys(QUANT_TYPE_IDS) as QuantName[];

/** The engine's dtype name of a ggml type id that it reads quantized, or null. */
export function quantNameOf(type: number): QuantName | null {
  return QUANT_NAMES.find((n) => QUANT_TYPE_IDS[n] === type) ?? null;
}

/** Elements per block and bytes per block of a quantized dtype. */
export function quantBlock(name: QuantName): GgmlType {
  return GGML_TYPES.get(QUANT_TYPE_IDS[name])!;
}

/**
 * Bytes of a tensor of `count` elements of ggml type `type` (F32, F16, a quantized type…), for
 * memory planning: rows must be whole blocks, so count is a multiple of the block size.
 */
export function ggmlTensorBytes(type: number, count: number): number {
  const t = GGML_TYPES.get(type);
  if (!t) throw new Error(`ggmlTensorBytes: unknown ggml type id ${type}`);
  if (count % t.blockSize !== 0) throw new Error(`ggmlTensorBytes: ${count} elements of ${t.name} is not a whole number of ${t.blockSize}-element blocks`);
  return (count / t.blockSize) * t.typeSize;
}
