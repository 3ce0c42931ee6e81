/**
 * Hugging Face tensors and config as llama.cpp's GGUF, the inverse of gguf-llama.ts, following
 * llama.cpp's convert_hf_to_gguf.py (conversion/llama.py, qwen.py) per architecture family:
 *
 *   family   GGUF arch  Q/K rows                         extra
 *   llama    llama      permuted for adjacent-pair RoPE  rope_freqs.weight [D/2] for llama3 scaling
 *   mistral  llama      permuted                         (sliding window not stored, as convert does)
 *   qwen2    qwen2      unchanged (NeoX RoPE)            q/k/v biases
 *   gpt2     gpt2       (fused attn_qkv)                 Conv1D [in, out] weights transposed; position_embd
 *
 * Names: model.layers.N.self_attn.q_proj.weight → blk.N.attn_q.weight (etc.),
 * model.embed_tokens → token_embd, model.norm → output_norm, lm_head → output.
 * Shapes: HF [out, in] row-major is GGUF dims [in, out] with the same bytes.
 *
 * Each family is one entry of GGUF_FAMILIES; a new one adds its arch name, tensor names and keys
 * (and, in gguf-files.ts, nothing else unless its tensors need another transformation).
 */
import { kv, type GgufKv } from '../io/gguf-write.ts';
import type { ModelConfig } from './config.ts';
import { ggufRowOfHfRow } from './gguf-llama.ts';
import { ropeInvFreq } from './rope.ts';

export interface GgufFamily {
  /** general.architecture, and the prefix of the hyperparameter keys. */
  arch: string;
  /** Q/K rows are stored in llama.cpp's adjacent-pair RoPE order. */
  permuteQK: boolean;
  /** Block weights are stored [in, out] in the checkpoint (GPT-2's Conv1D) and transposed for GGUF. */
  conv1d: boolean;
  /** HF top-level tensor → GGUF tensor. */
  topLevel: Record<string, string>;
  /** Matches a per-layer HF tensor: groups (layer, module, weight|bias). */
  layerPattern: RegExp;
  /** HF per-layer module → GGUF tensor base (after `blk.N.`). */
  layerNames: Record<string, string>;
  /** Checkpoint tensors llama.cpp does not use (GPT-2's attention-mask buffers). */
  ignored?: RegExp;
  /** The `{arch}.*` hyperparameter keys. */
  keys: (config: ModelConfig) => GgufKv[];
}

const LLAMA_LAYER_NAMES: Record<string, string> = {
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
  input_layernorm: 'attn_norm',
  post_attention_layernorm: 'ffn_norm',
};

const LLAMA_TOP_LEVEL: Record<string, string> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};

/** The keys llama.cpp's llama/qwen2 loaders read (convert_hf_to_gguf's TextModel + LlamaModel). */
function llamaKeys(a: string) {
  return (config: ModelConfig): GgufKv[] => [
    kv.u32(`${a}.context_length`, config.maxPositions),
    kv.u32(`${a}.embedding_length`, config.hidden),
    kv.u32(`${a}.feed_forward_length`, config.intermediate),
    kv.u32(`${a}.block_count`, config.layers),
    kv.u32(`${a}.attention.head_count`, config.heads),
    kv.u32(`${a}.attention.head_count_kv`, config.kvHeads),
    kv.f32(`${a}.rope.freq_base`, config.rope?.theta ?? 10000),
    kv.f32(`${a}.attention.layer_norm_rms_epsilon`, config.normEps),
    kv.u32(`${a}.attention.key_length`, config.headDim),
    kv.u32(`${a}.attention.value_length`, config.headDim),
    kv.u32(`${a}.vocab_size`, config.vocabSize),
    kv.u32(`${a}.rope.dimension_count`, config.rope?.rotaryDims ?? config.headDim),
  ];
}

const LLAMA_LAYER_PATTERN = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/;

const llamaFamily = (arch: string, permuteQK: boolean): GgufFamily => ({
  arch, permuteQK, conv1d: false, topLevel: LLAMA_TOP_LEVEL, layerPattern: LLAMA_LAYER_PATTERN, layerNames: LLAMA_LAYER_NAMES, keys: llamaKeys(arch),
});

/** GPT-2 (conversion/gpt2.py): fused attn_qkv, learned positions, LayerNorm with biases, Conv1D weights transposed. */
const GPT2_FAMILY: GgufFamily = {
  arch: 'gpt2',
  permuteQK: false,
  conv1d: true,
  topLevel: {
    'transformer.wte.weight': 'token_embd.weight', 'wte.weight': 'token_embd.weight',
    'transformer.wpe.weight': 'position_embd.weight', 'wpe.weight': 'position_embd.weight',
    'transformer.ln_f.weight': 'output_norm.weight', 'ln_f.weight': 'output_norm.weight',
    'transformer.ln_f.bias': 'output_norm.bias', 'ln_f.bias': 'output_norm.bias',
    'lm_head.weight': 'output.weight',
  },
  layerPattern: /^(?:transformer\.)?h\.(\d+)\.(.+)\.(weight|bias)$/,
  layerNames: { ln_1: 'attn_norm', 'attn.c_attn': 'attn_qkv', 'attn.c_proj': 'attn_output', ln_2: 'ffn_norm', 'mlp.c_fc': 'ffn_up', 'mlp.c_proj': 'ffn_down' },
  ignored: /\.attn\.(masked_)?bias$/,
  keys: (config) => [
    kv.u32('gpt2.context_length', config.maxPositions),
    kv.u32('gpt2.embedding_length', config.hidden),
    kv.u32('gpt2.feed_forward_length', config.intermediate),
    kv.u32('gpt2.block_count', config.layers),
    kv.u32('gpt2.attention.head_count', config.heads),
    kv.f32('gpt2.attention.layer_norm_epsilon', config.normEps),
  ],
};

/** hfModelType → family. */
export const GGUF_FAMILIES: Record<string, GgufFamily> = {
  llama: llamaFamily('llama', true),
  mistral: llamaFamily('llama', true),
  qwen2: llamaFamily('qwen2', false),
  gpt2: GPT2_FAMILY,
};

/** The family of a model, or an error saying which models can be written as GGUF. */
export function ggufFamily(config: ModelConfig): GgufFamily {
  const family = GGUF_FAMILIES[config.hfModelType];
  if (!family) {
    throw new Error(`GGUF export: ${config.hfModelType} models cannot be written as GGUF yet (supported: ${Object.keys(GGUF_FAMILIES).join(', ')}); export a PEFT adapter or ONNX instead`);
  }
  return family;
}

/** The GGUF name of an HF tensor, or null when the family has no such tensor. */
export function hfToGgufName(family: GgufFamily, hfName: string): string | null {
  if (hfName in family.topLevel) return family.topLevel[hfName];
  const m = family.layerPattern.exec(hfName);
  if (!m || !(m[2] in family.layerNames)) return null;
  return `blk.${m[1]}.${family.layerNames[m[2]]}.${m[3]}`;
}

/** Whether a checkpoint tensor is one llama.cpp does not load (and the export leaves out). */
export function ggufIgnores(family: GgufFamily, hfName: string): boolean {
  return family.ignored?.test(hfName) ?? false;
}

/** Heads whose rows the family permutes for this HF tensor (0: none). */
export function permutedHeads(family: GgufFamily, config: ModelConfig, hfName: string): number {
  if (!family.permuteQK) return 0;
  if (/\.q_proj\.(weight|bias)$/.test(hfName)) return config.heads;
  if (/\.k_proj\.(weight|bias)$/.test(hfName)) return config.kvHeads;
  return 0;
}

/**
 * convert_hf_to_gguf's permute on f32 rows: GGUF row h·D + 2j + s holds HF row h·D + s·D/2 + j.
 * `values` holds `rows` rows of `cols` values (a bias is cols = 1).
 */
export function permuteRowsForGguf(values: Float32Array, rows: number, cols: number, headDim: number): Float32Array {
  if (rows % headDim !== 0 || values.length !== rows * cols) throw new Error(`permuteRowsForGguf: ${values.length} values are not ${rows} rows (whole heads of ${headDim}) of ${cols}`);
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const to = ggufRowOfHfRow(r, headDim) * cols;
    out.set(values.subarray(r * cols, (r + 1) * cols), to);
  }
  return out;
}

/**
 * The llama3 RoPE frequency factors llama.cpp divides the frequencies by (rope_freqs.weight,
 * [D/2]): plain / scaled inverse frequency, from the model's own scaling (src/model/rope.ts);
 * null without llama3 scaling.
 */
export function ropeFreqFactors(config: ModelConfig): Float32Array | null {
  if (!config.rope?.scaling) return null;
  const plain = ropeInvFreq({ rope: { ...config.rope, scaling: null } });
  const scaled = ropeInvFreq(config);
  return Float32Array.from(plain, (p, i) => p / scaled[i]);
}

/** The `{arch}.*` hyperparameter keys llama.cpp reads for this model (after general.architecture). */
export function ggufModelKeys(family: GgufFamily, config: ModelConfig): GgufKv[] {
  return family.keys(config);
}
