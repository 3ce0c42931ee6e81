/**
 * Hugging Face tensors and config as llama.cpp's GGUF, the inverse of gguf-llama.ts, following
 * llama.cpp's convert_hf_to_gguf.py (conversion/llama.py, qwen.py) per architecture family:
 *
 *   family   GGUF arch  Q/K rows                         extra
 *   llama    llama      permuted for adjacent-pair RoPE  rope_freqs.weight [D/2] for llama3 scaling
 *   mistral  llama      permuted                         (sliding window not stored, as convert does)
 *   qwen2    qwen2      unchanged (NeoX RoPE)            q/k/v biases
 *
 * Names: model.layers.N.self_attn.q_proj.weight → blk.N.attn_q.weight (etc.),
 * model.embed_tokens → token_embd, model.norm → output_norm, lm_head → output.
 * Shapes: HF [out, in] row-major is GGUF dims [in, out] with the same bytes.
 *
 * Each family is one entry of GGUF_FAMILIES; a new one adds its arch name, tensor names and keys.
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
  /** HF per-layer module (after `model.layers.N.`) → GGUF tensor base (after `blk.N.`). */
  layerNames: Record<string, string>;
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

/** hfModelType → family. */
export const GGUF_FAMILIES: Record<string, GgufFamily> = {
  llama: { arch: 'llama', permuteQK: true, layerNames: LLAMA_LAYER_NAMES },
  mistral: { arch: 'llama', permuteQK: true, layerNames: LLAMA_LAYER_NAMES },
  qwen2: { arch: 'qwen2', permuteQK: false, layerNames: LLAMA_LAYER_NAMES },
};

const TOP_LEVEL: Record<string, string> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};

/** The family of a model, or an error saying which models can be written as GGUF. */
export function ggufFamily(config: ModelConfig): GgufFamily {
  const family = GGUF_FAMILIES[config.hfModelType];
  if (!family || config.arch !== 'llama') {
    throw new Error(`GGUF export: ${config.hfModelType} models cannot be written as GGUF yet (supported: ${Object.keys(GGUF_FAMILIES).join(', ')}); export a PEFT adapter or ONNX instead`);
  }
  return family;
}

/** The GGUF name of an HF tensor, or null when the family has no such tensor. */
export function hfToGgufName(family: GgufFamily, hfName: string): string | null {
  if (hfName in TOP_LEVEL) return TOP_LEVEL[hfName];
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hfName);
  if (!m || !(m[2] in family.layerNames)) return null;
  return `blk.${m[1]}.${family.layerNames[m[2]]}.${m[3]}`;
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
  const a = family.arch;
  const keys: GgufKv[] = [
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
  return keys;
}
