/**
 * A uniform view of a checkpoint's tensors in Hugging Face names and layout, whatever the file:
 * linear weights are `[out, in]` (row-major, `in` fastest), norms and biases `[C]`.
 * Built from a GGUF llama file (`gguf-llama.ts`) or from an HF folder's safetensors files
 * (`weightsFromSafetensors` here). Bytes keep the source precision; `toF32` widens.
 *
 * GPT-2 keeps its own names (`transformer.h.N.attn.c_attn.weight`, …) but its Conv1D weights,
 * stored `[in, out]`, are transposed at load to `[out, in]` like every other linear weight.
 * `attn.c_attn` stays fused: [3C, C], q rows then k rows then v rows.
 */
import { FormatError } from '../io/errors.ts';
import { dequantize } from '../io/ggml-dequant.ts';
import { quantBlock, QUANT_NAMES, type QuantName } from '../io/ggml-types.ts';
import { bf16ToF32, f16ToF32 } from '../io/halfs.ts';
import { parseSafetensors, type SafeDtype, type SafetensorsFile } from '../io/safetensors.ts';
import { parseShardIndex } from '../io/safetensors-index.ts';
import type { Arch } from './config.ts';

/** Float dtypes, or a ggml block format kept quantized (GGUF files only; rows are whole blocks). */
export type WeightDtype = 'f32' | 'f16' | 'bf16' | QuantName;

export function isQuantized(dtype: WeightDtype): dtype is QuantName {
  return (QUANT_NAMES as string[]).includes(dtype);
}

export interface WeightInfo {
  /** HF shape: [out, in] for linear weights. */
  shape: number[];
  dtype: WeightDtype;
  /** The file the tensor comes from (for messages). */
  file: string;
}

export interface WeightSource {
  /** Where the weights came from (a file or folder name), for messages. */
  source: string;
  names(): string[];
  has(name: string): boolean;
  info(name: string): WeightInfo;
  /** Raw little-endian bytes in HF layout and the source dtype (a view or a fresh copy). */
  bytes(name: string): Uint8Array;
  /** The tensor widened to f32 (always a new array). */
  toF32(name: string): Float32Array;
}

export const DTYPE_BYTES: Record<'f32' | 'f16' | 'bf16', number> = { f32: 4, f16: 2, bf16: 2 };

/** Bytes of a tensor of this shape and dtype (quantized: whole blocks along the last dimension). */
export function weightBytesOf(shape: readonly number[], dtype: WeightDtype): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (!isQuantized(dtype)) return n * DTYPE_BYTES[dtype];
  const { blockSize, typeSize } = quantBlock(dtype);
  return (n / blockSize) * typeSize;
}

export interface WeightEntry extends WeightInfo {
  /** Produces the tensor's bytes in HF layout. */
  read(): Uint8Array;
}

/** Raw bytes of one dtype → f32 (always a new array); quantized blocks are dequantized. */
export function bytesToF32(raw: Uint8Array, dtype: WeightDtype): Float32Array {
  if (isQuantized(dtype)) {
    const { blockSize, typeSize } = quantBlock(dtype);
    return Float32Array.from(dequantize(dtype, raw, (raw.length / typeSize) * blockSize));
  }
  const copy = new ArrayBuffer(raw.length);
  new Uint8Array(copy).set(raw);
  if (dtype === 'f32') return new Float32Array(copy);
  return dtype === 'f16' ? f16ToF32(new Uint16Array(copy)) : bf16ToF32(new Uint16Array(copy));
}

/** [rows, cols] → [cols, rows] on raw bytes of elements of `elem` bytes. */
export function transposeBytes(raw: Uint8Array, rows: number, cols: number, elem: number): Uint8Array {
  if (raw.length !== rows * cols * elem) throw new Error(`transposeBytes: ${raw.length} bytes is not ${rows}×${cols}×${elem}`);
  const out = new Uint8Array(raw.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = (r * cols + c) * elem;
      const to = (c * rows + r) * elem;
      for (let b = 0; b < elem; b++) out[to + b] = raw[from + b];
    }
  }
  return out;
}

/** A WeightSource over a table of entries; unknown names throw a message that names the tensor. */
export function weightTable(source: string, entries: Map<string, WeightEntry>): WeightSource {
  const get = (name: string): WeightEntry => {
    const e = entries.get(name);
    if (e) return e;
    const some = [...entries.keys()].slice(0, 4).join(', ');
    throw new FormatError(source, `has no tensor '${name}' (it has ${entries.size}, e.g. ${some}); the checkpoint does not match its config`);
  };
  return {
    source,
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    info: (name) => {
      const { shape, dtype, file } = get(name);
      return { shape: [...shape], dtype, file };
    },
    bytes: (name) => get(name).read(),
    toF32: (name) => {
      const e = get(name);
      return bytesToF32(e.read(), e.dtype);
    },
  };
}

const SAFE_DTYPES: Record<SafeDtype, 'f32' | 'f16' | 'bf16'> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };
const GPT2_CONV1D = /^transformer\.h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
const GPT2_TOP = /^(wte|wpe|h|ln_f)\./;
/** Non-parameter buffers some checkpoints carry: GPT-2's causal masks, old Llama inv_freq. */
const BUFFERS = /(^|\.)attn\.(bias|masked_bias)$|\.rotary_emb\.inv_freq$/;

/** The HF name a checkpoint key stands for: GPT-2 keys saved without `transformer.` get it. */
function canonicalName(arch: Arch, key: string): string {
  return arch === 'gpt2' && GPT2_TOP.test(key) ? `transformer.${key}` : key;
}

/** The safetensors files of an HF folder: the shards of the index, or model.safetensors, or every *.safetensors. */
function safetensorsFiles(files: Record<string, Uint8Array>, source: string): { name: string; bytes: Uint8Array }[] {
  const indexName = 'model.safetensors.index.json';
  if (files[indexName]) {
    const index = parseShardIndex(new TextDecoder().decode(files[indexName]), `${source}/${indexName}`);
    return index.shards.map((shard) => {
      const bytes = files[shard];
      if (!bytes) throw new FormatError(source, `${indexName} lists the shard '${shard}' but the folder has no such file; download it too`);
      return { name: shard, bytes };
    });
  }
  if (files['model.safetensors']) return [{ name: 'model.safetensors', bytes: files['model.safetensors'] }];
  const names = Object.keys(files).filter((n) => n.endsWith('.safetensors')).sort();
  if (names.length === 0) {
    const bin = Object.keys(files).some((n) => n.endsWith('.bin') || n.endsWith('.pt'));
    throw new FormatError(source, `has no model.safetensors (or *.safetensors shards with model.safetensors.index.json)${bin ? '; PyTorch .bin checkpoints are not read — use the safetensors files of the model' : ''}`);
  }
  return names.map((name) => ({ name, bytes: files[name] }));
}

/**
 * The tensors of an HF folder (`files` maps names relative to the folder to bytes). Tensors are
 * views into the given bytes, except GPT-2 Conv1D weights, transposed into a new array on read.
 */
export function weightsFromSafetensors(files: Record<string, Uint8Array>, arch: Arch, source: string): WeightSource {
  const entries = new Map<string, WeightEntry>();
  for (const { name: fileName, bytes } of safetensorsFiles(files, source)) {
    const file: SafetensorsFile = parseSafetensors(bytes, `${source}/${fileName}`);
    for (const t of file.tensors) {
      if (BUFFERS.test(t.name)) continue;
      const name = canonicalName(arch, t.name);
      if (entries.has(name)) throw new FormatError(source, `tensor '${name}' is stored twice (in ${entries.get(name)!.file} and ${fileName}); the checkpoint is damaged`);
      const dtype = SAFE_DTYPES[t.dtype];
      const raw = () => bytes.subarray(t.begin, t.end);
      if (arch === 'gpt2' && GPT2_CONV1D.test(name)) {
        if (t.shape.length !== 2) throw new FormatError(`${source}/${fileName}`, `GPT-2 Conv1D weight '${t.name}' should be 2-D [in, out] but has shape [${t.shape.join(', ')}]`);
        const [inDim, outDim] = t.shape;
        entries.set(name, { shape: [outDim, inDim], dtype, file: fileName, read: () => transposeBytes(raw(), inDim, outDim, DTYPE_BYTES[dtype]) });
      } else {
        entries.set(name, { shape: [...t.shape], dtype, file: fileName, read: raw });
      }
    }
  }
  return weightTable(source, entries);
}

/**
 * How the checkpoint stores its weights: tensor count per dtype (upper case: `Q4_K`, `F16`), and a
 * one-line summary for people (`quantized: Q4_K, Q6_K`, or the float dtype most bytes are in).
 */
export function weightPrecision(weights: WeightSource): { types: Record<string, number>; summary: string } {
  const types: Record<string, number> = {};
  const bytes = new Map<WeightDtype, number>();
  for (const name of weights.names()) {
    const { dtype, shape } = weights.info(name);
    types[dtype.toUpperCase()] = (types[dtype.toUpperCase()] ?? 0) + 1;
    bytes.set(dtype, (bytes.get(dtype) ?? 0) + weightBytesOf(shape, dtype));
  }
  const quantized = [...bytes.keys()].filter(isQuantized).sort();
  if (quantized.length > 0) return { types, summary: `quantized: ${quantized.map((q) => q.toUpperCase()).join(', ')}` };
  const main = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'f32';
  return { types, summary: main };
}
