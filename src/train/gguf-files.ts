/**
 * GGUF files for llama.cpp, ollama and LM Studio, from a loaded model and a trained adapter:
 *
 * - the LoRA adapter as llama.cpp's convert_lora_to_gguf.py writes it: general.type = "adapter",
 *   adapter.type = "lora", adapter.lora.alpha, and per adapted module `blk.N.<tensor>.weight.lora_a`
 *   (dims [K, R]: PEFT's A [R, K]) and `.lora_b` (dims [R, N]: B [N, R], rows in llama.cpp's RoPE
 *   order for attn_q/attn_k). llama.cpp scales by alpha / r, so alpha is written as s·r (s = the
 *   adapter's own scale, which covers rsLoRA's alpha/√r);
 * - the merged model (W + s·B·A, src/lora/merge.ts) in F32, F16, Q8_0 or Q4_K_M, with the
 *   architecture keys (src/model/hf-to-gguf.ts) and the tokenizer (gguf-tokenizer-keys.ts).
 *
 * Tensor types follow llama.cpp: 1-D tensors (norms, biases, rope_freqs) stay F32; Q4_K_M puts
 * output.weight (token_embd when tied) in Q6_K, attn_v (or a fused attn_qkv) and ffn_down in Q6_K on the layers
 * use_more_bits picks, the other weights in Q4_K; rows that are not whole blocks fall back as
 * llama-quantize does (Q4_K → Q5_0, Q6_K → Q8_0, then F16).
 */
import { GGML_F16, GGML_F32, GGML_TYPES } from '../io/ggml-types.ts';
import { encodeTensor, GGML_Q4_K, GGML_Q5_0, GGML_Q6_K, GGML_Q8_0 } from '../io/ggml-quantize.ts';
import { parseGguf } from '../io/gguf.ts';
import { kv, writeGguf, type GgufKv, type GgufTensorOut } from '../io/gguf-write.ts';
import { bf16ToF32, f16ToF32 } from '../io/halfs.ts';
import type { SafeTensorInput } from '../io/safetensors.ts';
import { readSlot, type AdapterLayout } from '../lora/layout.ts';
import { mergedCheckpoint, type MergeAdapter } from '../lora/merge.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { ggufFamily, ggufIgnores, ggufModelKeys, ggufValueShift, hfToGgufName, permutedHeads, permuteRowsForGguf, ropeFreqFactors, type GgufFamily } from '../model/hf-to-gguf.ts';
import { tokenizerKeysFromGguf, tokenizerKeysFromHf } from '../model/gguf-tokenizer-keys.ts';
import type { ModelConfig } from '../model/config.ts';
import { checkpointTensors, ggufTensors } from './merge-files.ts';

export const GGUF_FILE_TYPES = ['F32', 'F16', 'Q8_0', 'Q4_K_M'] as const;
export type GgufFileType = (typeof GGUF_FILE_TYPES)[number];

/** llama_ftype values for general.file_type. */
const FILE_TYPE_ID: Record<GgufFileType, number> = { F32: 0, F16: 1, Q8_0: 7, Q4_K_M: 15 };

const useMoreBits = (i: number, n: number) => i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;

/** llama-quantize's fallback for rows that are not whole blocks of the chosen type. */
function fallback(type: number, cols: number): number {
  const fits = (t: number) => cols % (GGML_TYPES.get(t)?.blockSize ?? 1) === 0;
  if (fits(type)) return type;
  const next = type === GGML_Q4_K ? GGML_Q5_0 : type === GGML_Q6_K ? GGML_Q8_0 : GGML_F16;
  return fits(next) ? next : GGML_F16;
}

/**
 * The ggml type of each 2-D weight for a file type (llama_tensor_get_type for the llama family).
 * `names` are the GGUF names in write order; 1-D tensors are not asked about.
 */
export function weightTypes(fileType: GgufFileType, tensors: { name: string; cols: number }[], layers: number): Map<string, number> {
  const out = new Map<string, number>();
  const tied = !tensors.some((t) => t.name === 'output.weight');
  const nAttnV = tensors.filter((t) => /\.attn_(v|qkv)\.weight$/.test(t.name)).length;
  let iAttnV = 0;
  for (const { name, cols } of tensors) {
    let type: number;
    if (fileType === 'F32') type = GGML_F32;
    else if (fileType === 'F16') type = GGML_F16;
    else if (fileType === 'Q8_0') type = GGML_Q8_0;
    else if (name === 'output.weight' || (tied && name === 'token_embd.weight')) type = cols % 256 !== 0 ? GGML_Q8_0 : GGML_Q6_K;
    else if (/\.attn_(v|qkv)\.weight$/.test(name)) type = useMoreBits(iAttnV++, nAttnV) ? GGML_Q6_K : GGML_Q4_K;
    else if (/\.ffn_down\.weight$/.test(name)) type = useMoreBits(Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? 0), layers) ? GGML_Q6_K : GGML_Q4_K;
    else type = GGML_Q4_K;
    out.set(name, fileType === 'F32' || fileType === 'F16' ? type : fallback(type, cols));
  }
  return out;
}

function widen(t: SafeTensorInput): Float32Array {
  if (t.dtype === 'F32') return t.data as Float32Array;
  return t.dtype === 'F16' ? f16ToF32(t.data as Uint16Array) : bf16ToF32(t.data as Uint16Array);
}

function order(name: string): number {
  if (name === 'rope_freqs.weight') return -2;
  if (name === 'token_embd.weight' || name === 'position_embd.weight') return -1;
  const m = /^blk\.(\d+)\./.exec(name);
  if (m) return Number(m[1]);
  return name === 'output_norm.weight' ? 1e9 : 1e9 + 1;
}

/** [rows, cols] → [cols, rows]. */
function transposeF32(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c];
  return out;
}

/** One GGUF tensor to write: its name, dims and how to get its f32 values (made when encoded, then dropped). */
interface PlannedTensor { name: string; dims: number[]; values: () => Float32Array }

/** HF tensors (names and layout as the checkpoint stores them) as GGUF tensors, in write order. */
function planTensors(family: GgufFamily, config: ModelConfig, tensors: readonly SafeTensorInput[], source: string): PlannedTensor[] {
  const out: PlannedTensor[] = [];
  for (const t of tensors) {
    if (ggufIgnores(family, t.name)) continue;
    const name = hfToGgufName(family, t.name);
    if (name === null) throw new Error(`GGUF export: ${source}: tensor '${t.name}' has no GGUF name in the ${family.arch} architecture; the model has parts llama.cpp's ${family.arch} does not load`);
    const transpose = family.conv1d && name.startsWith('blk.') && t.shape.length === 2;
    const shape = transpose ? [t.shape[1], t.shape[0]] : [...t.shape];
    const shift = ggufValueShift(family, t.name);
    const heads = permutedHeads(family, config, t.name);
    const values = () => {
      let v = widen(t);
      // Gemma's norms are stored as 1 + w (a new array: widen may return the tensor's own data).
      if (shift !== 0) v = v.map((x) => x + shift);
      if (transpose) v = transposeF32(v, t.shape[0], t.shape[1]);
      return heads > 0 ? permuteRowsForGguf(v, shape[0], v.length / shape[0], config.headDim) : v;
    };
    out.push({ name, dims: [...shape].reverse(), values });
  }
  const freqs = ropeFreqFactors(config);
  if (freqs && family.arch === 'llama') out.push({ name: 'rope_freqs.weight', dims: [freqs.length], values: () => freqs });
  return out.sort((a, b) => order(a.name) - order(b.name));
}

/** The model's checkpoint tensors in HF names and layout (GGUF sources: as the loader read them). */
function sourceTensors(model: LoadedModel, files: Record<string, Uint8Array>): SafeTensorInput[] {
  return model.format === 'safetensors' ? checkpointTensors(files, model.source) : ggufTensors(model);
}

function json(bytes: Uint8Array | undefined, name: string): Record<string, unknown> {
  if (!bytes) return {};
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`GGUF export: ${name} is not valid JSON (${(e as Error).message})`);
  }
}

function tokenizerKeys(model: LoadedModel, files: Record<string, Uint8Array>): GgufKv[] {
  if (model.format === 'gguf') {
    const name = Object.keys(files).find((n) => n.toLowerCase().endsWith('.gguf'));
    if (!name) throw new Error(`GGUF export: ${model.source}: the GGUF bytes were not given; pass the files the model was loaded from`);
    return tokenizerKeysFromGguf(parseGguf(files[name], name));
  }
  if (!files['tokenizer.json']) throw new Error(`GGUF export: ${model.source}: tokenizer.json was not given; pass the model folder's files`);
  return tokenizerKeysFromHf(json(files['tokenizer.json'], 'tokenizer.json'), json(files['tokenizer_config.json'], 'tokenizer_config.json'), model.config, model.tokenizer);
}

export interface MergedGgufOptions {
  fileType: GgufFileType;
  /** general.name (default: the model's source name). */
  name?: string;
}

/** The merged model (adapter folded in; null: the base model as it is) as one GGUF file. */
export function mergedGguf(model: LoadedModel, files: Record<string, Uint8Array>, adapter: MergeAdapter | null, opts: MergedGgufOptions): Uint8Array {
  const family = ggufFamily(model.config);
  const base = sourceTensors(model, files);
  const merged = adapter ? mergedCheckpoint(base, adapter) : base;
  const tensors = planTensors(family, model.config, merged, model.source);
  const types = weightTypes(opts.fileType, tensors.filter((t) => t.dims.length === 2).map((t) => ({ name: t.name, cols: t.dims[0] })), model.config.layers);
  // One tensor in f32 at a time: the whole model in f32 would not fit in a browser tab for 0.5B models.
  const out: GgufTensorOut[] = tensors.map((t) => {
    const type = types.get(t.name) ?? GGML_F32;
    return { name: t.name, dims: t.dims, type, data: encodeTensor(t.values(), t.dims[0], type, t.name) };
  });
  const quantized = opts.fileType === 'Q8_0' || opts.fileType === 'Q4_K_M';
  const meta: GgufKv[] = [
    kv.str('general.architecture', family.arch),
    kv.str('general.type', 'model'),
    kv.str('general.name', opts.name ?? model.source.split('/').pop() ?? 'model'),
    kv.u32('general.file_type', FILE_TYPE_ID[opts.fileType]),
    ...(quantized ? [kv.u32('general.quantization_version', 2)] : []),
    ...ggufModelKeys(family, model.config),
    ...tokenizerKeys(model, files),
  ];
  return writeGguf(meta, out);
}

export interface AdapterGgufOptions {
  dtype: 'F32' | 'F16';
  /** The adapter's scale s (loraScale(cfg)); written as alpha = s·r. */
  scale: number;
  name?: string;
}

/** The LoRA adapter as a llama.cpp GGUF adapter file for this base model. */
export function adapterGguf(config: ModelConfig, layout: AdapterLayout, params: Float32Array, opts: AdapterGgufOptions): Uint8Array {
  const family = ggufFamily(config);
  if (params.length !== layout.totalFloats) throw new Error(`adapterGguf: the parameter buffer holds ${params.length} floats but the layout needs ${layout.totalFloats}`);
  const type = opts.dtype === 'F16' ? GGML_F16 : GGML_F32;
  const R = layout.rank;
  const tensors: GgufTensorOut[] = [];
  for (const e of layout.entries) {
    const hfName = `${e.name}.weight`;
    const name = hfToGgufName(family, hfName);
    if (name === null) throw new Error(`adapterGguf: module '${e.name}' has no GGUF name in the ${family.arch} architecture`);
    const K = e.inFeatures;
    const N = e.outFeatures;
    let b = readSlot(params, e.b);
    if (permutedHeads(family, config, hfName) > 0) b = permuteRowsForGguf(b, N, R, config.headDim);
    tensors.push({ name: `${name}.lora_a`, dims: [K, R], type, data: encodeTensor(readSlot(params, e.a), K, type, `${name}.lora_a`) });
    tensors.push({ name: `${name}.lora_b`, dims: [R, N], type, data: encodeTensor(b, R, type, `${name}.lora_b`) });
  }
  tensors.sort((x, y) => order(x.name) - order(y.name));
  const meta: GgufKv[] = [
    kv.str('general.architecture', family.arch),
    kv.str('general.type', 'adapter'),
    kv.str('general.name', opts.name ?? 'tsugiki LoRA adapter'),
    kv.u32('general.file_type', FILE_TYPE_ID[opts.dtype]),
    kv.str('adapter.type', 'lora'),
    kv.f32('adapter.lora.alpha', opts.scale * R),
  ];
  return writeGguf(meta, tensors);
}
