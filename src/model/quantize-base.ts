/**
 * "4-bit base": a full-precision checkpoint (Hugging Face safetensors, or an F32/F16 GGUF)
 * quantized at load with ggml's reference quantizers (src/io/ggml-quantize.ts), so the frozen
 * weights take about a quarter of their f16 bytes on the GPU and LoRA trains on top (QLoRA).
 *
 * Per linear weight and embedding, the block format is chosen by the error it measures on that
 * weight (relative RMS of the dequantized values against the originals):
 *   rows of whole 256-blocks: Q4_K (4.5 bits/weight); Q6_K (6.6) when Q4_K's error > Q4_LIMIT;
 *   rows of whole 32-blocks:  Q5_0 (5.5);             Q8_0 (8.5) when Q5_0's error > Q5_LIMIT;
 *   the embedding and LM head: Q6_K (or Q8_0), as llama.cpp's Q4_K_M keeps its output layer;
 *   other rows, norms, biases and GPT-2's position table stay as they are.
 * GPT-2's fused c_attn is quantized whole: its q, k, v row blocks are whole rows of blocks, each
 * bound as its own view (gpu-weights.ts).
 * Q4_K's error on Gaussian-like weights is ~0.07 (measured on the k256 test model); a weight far
 * above that has outliers that Q4_K's 6-bit group scales serve badly.
 */
import { dequantize } from '../io/ggml-dequant.ts';
import { GGML_Q4_K, GGML_Q5_0, GGML_Q6_K, GGML_Q8_0, encodeTensor } from '../io/ggml-quantize.ts';
import { quantNameOf, type QuantName } from '../io/ggml-types.ts';
import type { LoadedModel } from './load-source.ts';
import { layerLinears, layerPrefix } from './modules.ts';
import { isQuantized, weightBytesOf, weightTable, type WeightEntry } from './weights.ts';

export const Q4_LIMIT = 0.1;
export const Q5_LIMIT = 0.05;

export interface BaseQuantReport {
  /** Bytes of the weights before and after (as stored on the GPU, without buffer padding). */
  bytesBefore: number;
  bytesAfter: number;
  /** Tensor count per chosen format (upper case), and per kept dtype. */
  types: Record<string, number>;
  /** The largest relative RMS error of a quantized weight, and which. */
  worst: { name: string; error: number } | null;
}

const EMBEDDING = /(^|\.)(embed_tokens|wte)\.weight$|^lm_head\.weight$/;

function relativeRms(x: Float32Array, y: Float64Array): number {
  let se = 0;
  let sx = 0;
  for (let i = 0; i < x.length; i++) {
    se += (y[i] - x[i]) ** 2;
    sx += x[i] * x[i];
  }
  return sx > 0 ? Math.sqrt(se / sx) : 0;
}

/** The candidate formats for a weight, cheapest first, with the error each may have. */
function candidates(name: string, cols: number): [number, number][] {
  if (EMBEDDING.test(name)) return cols % 256 === 0 ? [[GGML_Q6_K, Infinity]] : cols % 32 === 0 ? [[GGML_Q8_0, Infinity]] : [];
  if (cols % 256 === 0) return [[GGML_Q4_K, Q4_LIMIT], [GGML_Q6_K, Infinity]];
  if (cols % 32 === 0) return [[GGML_Q5_0, Q5_LIMIT], [GGML_Q8_0, Infinity]];
  return [];
}

/** The model with its linear weights and embeddings quantized as described above, and what it saved. */
export function quantizeBase(model: LoadedModel): { model: LoadedModel; report: BaseQuantReport } {
  const w = model.weights;
  if (model.baseQuant) return { model, report: model.baseQuant };
  const c = model.config;
  const quantizable = new Set<string>();
  for (let l = 0; l < c.layers; l++) for (const m of layerLinears(c)) quantizable.add(`${layerPrefix(c, l)}${m.path}.weight`);
  const entries = new Map<string, WeightEntry>();
  const types: Record<string, number> = {};
  let bytesBefore = 0;
  let bytesAfter = 0;
  let worst: BaseQuantReport['worst'] = null;
  for (const name of w.names()) {
    const info = w.info(name);
    bytesBefore += weightBytesOf(info.shape, info.dtype);
    const cols = info.shape[info.shape.length - 1];
    let chosen: { type: QuantName; bytes: Uint8Array; error: number } | null = null;
    if (info.shape.length === 2 && !isQuantized(info.dtype) && (quantizable.has(name) || EMBEDDING.test(name))) {
      const values = w.toF32(name);
      for (const [type, limit] of candidates(name, cols)) {
        const bytes = encodeTensor(values, cols, type, name);
        const q = quantNameOf(type)!;
        const error = relativeRms(values, dequantize(q, bytes, values.length));
        chosen = { type: q, bytes, error };
        if (error <= limit) break;
      }
    }
    if (!chosen) {
      entries.set(name, { ...info, read: () => w.bytes(name) });
      types[info.dtype.toUpperCase()] = (types[info.dtype.toUpperCase()] ?? 0) + 1;
      bytesAfter += weightBytesOf(info.shape, info.dtype);
      continue;
    }
    const { type, bytes, error } = chosen;
    entries.set(name, { shape: info.shape, dtype: type, file: info.file, read: () => bytes });
    types[type.toUpperCase()] = (types[type.toUpperCase()] ?? 0) + 1;
    bytesAfter += bytes.length;
    if (!worst || error > worst.error) worst = { name, error };
  }
  return {
    model: { ...model, weights: weightTable(w.source, entries), baseQuant: { bytesBefore, bytesAfter, types, worst } },
    report: { bytesBefore, bytesAfter, types, worst },
  };
}
