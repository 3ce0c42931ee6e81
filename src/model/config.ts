/**
 * One normalised model description for every supported checkpoint, read from a Hugging Face
 * `config.json` (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
 * Gemma3ForCausalLM, GPT2LMHeadModel) or from GGUF `llama.*` / `qwen3.*` / `gemma3.*` metadata
 * (gguf-config.ts). Qwen3 and Gemma 3 are the llama family with the optional features below. Shape letters: V vocab, C hidden, L layers, H query heads,
 * KV key/value heads, D head dim, I MLP width.
 */
import { FormatError } from '../io/errors.ts';
import { gemma3FromHf } from './config-gemma3.ts';

export { ropeInvFreq } from './rope.ts';
export { configFromGguf } from './gguf-config.ts';
export { loraTargets, layerLinears, parameterCount, expectedTensors } from './modules.ts';

export type Arch = 'llama' | 'gpt2';

export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface RopeConfig {
  theta: number;
  /** How many leading dims of each head are rotated (rotate-half within them); D for all supported models. */
  rotaryDims: number;
  scaling: Llama3RopeScaling | null;
}

export interface ModelConfig {
  arch: Arch;
  /** `model_type` of the source (llama, mistral, qwen2, gpt2). */
  hfModelType: string;
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  maxPositions: number;
  norm: 'rmsnorm' | 'layernorm';
  normEps: number;
  activation: 'silu' | 'gelu_tanh';
  rope: RopeConfig | null;
  learnedPositions: boolean;
  /** Bias on q/k/v projections (GPT-2's fused c_attn, Qwen2, Llama with attention_bias). */
  qkvBias: boolean;
  attnOutBias: boolean;
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
  /** Keys further back than this many positions are not attended to (Mistral); null: no window. */
  slidingWindow: number | null;
  /**
   * Per layer: its sliding window, or null for full attention (Gemma 3: 5 of every 6 layers slide).
   * Absent: every layer uses slidingWindow. Read through layerWindow().
   */
  layerWindows?: (number | null)[];
  /** RoPE of the sliding-window layers when it differs from `rope` (Gemma 3's rope_local_base_freq). */
  ropeLocal?: RopeConfig;
  /** RMSNorm of each head's q and k rows (weights `self_attn.q_norm` / `k_norm`, [D]) before RoPE: Qwen3, Gemma 3. */
  qkNorm?: boolean;
  /** RMSNorms multiply by (1 + w), the checkpoint storing w (Gemma). */
  normPlusOne?: boolean;
  /** Gemma 3's four norms per block: attention and MLP outputs are normed before the residual add too. */
  sandwichNorms?: boolean;
  /** Multiplies the token embeddings (Gemma: √C, rounded to the embeddings' dtype as HF does); absent: 1. */
  embedScale?: number;
  /** Attention score scale (Gemma: query_pre_attn_scalar^-½); absent: 1/√D. */
  attnScale?: number;
  bosId: number | null;
  eosId: number | number[] | null;
  padId: number | null;
  torchDtype: string;
}

/** The `architectures` names tsugiki loads, with their normalised arch. */
export const SUPPORTED_ARCHITECTURES: Record<string, string> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Gemma3ForCausalLM: 'gemma3_text',
  GPT2LMHeadModel: 'gpt2',
};

export const SUPPORTED_LIST = `${Object.keys(SUPPORTED_ARCHITECTURES).join(', ')} (or a GGUF file with general.architecture llama, qwen3 or gemma3)`;

/** The sliding window of layer l (null: full attention). */
export function layerWindow(config: Pick<ModelConfig, 'slidingWindow' | 'layerWindows'>, l: number): number | null {
  return config.layerWindows ? config.layerWindows[l] : config.slidingWindow;
}

/** The RoPE of layer l: the local one on sliding layers when the model has one. */
export function layerRope(config: Pick<ModelConfig, 'rope' | 'ropeLocal' | 'slidingWindow' | 'layerWindows'>, l: number): RopeConfig | null {
  return config.ropeLocal && layerWindow(config, l) !== null ? config.ropeLocal : config.rope;
}

export type Json = Record<string, unknown>;

export function fail(source: string, message: string): never {
  throw new FormatError(source, message);
}

export function int(json: Json, source: string, ...keys: string[]): number {
  for (const k of keys) {
    const v = json[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(source, `"${k}" should be a positive integer but is ${JSON.stringify(v)}`);
    return v;
  }
  fail(source, `"${keys[0]}" is missing; it is required for ${String(json.model_type)} models`);
}

export function num(json: Json, source: string, key: string, fallback: number): number {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(source, `"${key}" should be a number but is ${JSON.stringify(v)}`);
  return v;
}

export function bool(json: Json, source: string, key: string, fallback: boolean): boolean {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(source, `"${key}" should be true or false but is ${JSON.stringify(v)}`);
  return v;
}

export function tokenId(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

export function eosIds(v: unknown): number | number[] | null {
  if (Array.isArray(v)) {
    const ids = v.filter((x): x is number => tokenId(x) !== null);
    return ids.length === 0 ? null : ids.length === 1 ? ids[0] : ids;
  }
  return tokenId(v);
}

/** The model type of a config.json: from `architectures[0]`, else from `model_type`. */
function modelTypeOf(json: Json, source: string): string {
  const archs = Array.isArray(json.architectures) ? json.architectures.filter((a): a is string => typeof a === 'string') : [];
  for (const a of archs) if (a in SUPPORTED_ARCHITECTURES) return SUPPORTED_ARCHITECTURES[a];
  const byType = Object.values(SUPPORTED_ARCHITECTURES).find((t) => t === json.model_type);
  if (archs.length === 0 && byType) return byType;
  if (archs.length === 0 && json.model_type === 'gemma3') {
    fail(source, 'is the config of a Gemma 3 vision-language model (Gemma3ForConditionalGeneration); tsugiki loads the text-only Gemma 3 models (gemma-3-270m, gemma-3-1b)');
  }
  const named = archs.length > 0 ? archs.join(', ') : `model_type ${JSON.stringify(json.model_type)}`;
  fail(source, `architecture ${named} is not supported; tsugiki loads ${SUPPORTED_LIST}`);
}

export function ropeFromHf(json: Json, source: string, headDim: number): RopeConfig {
  // transformers ≥ 5 writes `rope_parameters` (with rope_theta inside); earlier ones `rope_scaling`.
  const params = (json.rope_parameters ?? json.rope_scaling ?? null) as Json | null;
  const theta = num(json, source, 'rope_theta', params && typeof params.rope_theta === 'number' ? params.rope_theta : 10000);
  const partial = num(json, source, 'partial_rotary_factor', 1);
  if (partial !== 1) fail(source, `"partial_rotary_factor" is ${partial}; tsugiki supports rotary embeddings over the whole head only`);
  const type = params ? String(params.rope_type ?? params.type ?? 'default') : 'default';
  if (type === 'default') return { theta, rotaryDims: headDim, scaling: null };
  if (type !== 'llama3') fail(source, `rope scaling type "${type}" is not supported; tsugiki supports none or "llama3"`);
  const p = params as Json;
  const field = (k: string): number => {
    const v = p[k];
    if (typeof v !== 'number' || !(v > 0)) fail(source, `rope scaling "llama3" needs a positive number "${k}", got ${JSON.stringify(v)}`);
    return v;
  };
  const scaling: Llama3RopeScaling = {
    type: 'llama3',
    factor: field('factor'),
    lowFreqFactor: field('low_freq_factor'),
    highFreqFactor: field('high_freq_factor'),
    originalMaxPositions: field('original_max_position_embeddings'),
  };
  if (scaling.highFreqFactor <= scaling.lowFreqFactor) fail(source, `rope scaling "llama3" needs high_freq_factor > low_freq_factor (got ${scaling.highFreqFactor} and ${scaling.lowFreqFactor})`);
  return { theta, rotaryDims: headDim, scaling };
}

function llamaFamilyFromHf(json: Json, source: string, modelType: string): ModelConfig {
  const hidden = int(json, source, 'hidden_size');
  const heads = int(json, source, 'num_attention_heads');
  const kvHeads = json.num_key_value_heads == null ? heads : int(json, source, 'num_key_value_heads');
  const headDim = json.head_dim == null ? hidden / heads : int(json, source, 'head_dim');
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) fail(source, `head dim ${headDim} (hidden_size / num_attention_heads) must be an even integer`);
  if (heads % kvHeads !== 0) fail(source, `num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`);
  const act = String(json.hidden_act ?? 'silu');
  if (act !== 'silu' && act !== 'swish') fail(source, `"hidden_act" is "${act}"; tsugiki supports "silu" for ${modelType} models`);
  if (modelType === 'qwen3' && bool(json, source, 'use_sliding_window', false)) {
    fail(source, '"use_sliding_window" is true; tsugiki supports Qwen3 models with full attention only');
  }
  const attnBias = bool(json, source, 'attention_bias', false);
  let slidingWindow: number | null = null;
  if (modelType === 'mistral' && json.sliding_window != null) slidingWindow = int(json, source, 'sliding_window');
  if (modelType === 'qwen2' && bool(json, source, 'use_sliding_window', false)) {
    fail(source, '"use_sliding_window" is true; tsugiki supports Qwen2 models with full attention only');
  }
  return {
    arch: 'llama',
    hfModelType: modelType,
    vocabSize: int(json, source, 'vocab_size'),
    hidden, layers: int(json, source, 'num_hidden_layers'), heads, kvHeads, headDim,
    intermediate: int(json, source, 'intermediate_size'),
    maxPositions: json.max_position_embeddings == null ? 2048 : int(json, source, 'max_position_embeddings'),
    norm: 'rmsnorm',
    normEps: num(json, source, 'rms_norm_eps', 1e-6),
    activation: 'silu',
    rope: ropeFromHf(json, source, headDim),
    learnedPositions: false,
    qkvBias: modelType === 'qwen2' || attnBias,
    ...(modelType === 'qwen3' ? { qkNorm: true } : {}),
    attnOutBias: (modelType === 'llama' || modelType === 'qwen3') && attnBias,
    mlpBias: modelType === 'llama' && bool(json, source, 'mlp_bias', false),
    tieWordEmbeddings: bool(json, source, 'tie_word_embeddings', false),
    slidingWindow,
    bosId: tokenId(json.bos_token_id),
    eosId: eosIds(json.eos_token_id),
    padId: tokenId(json.pad_token_id),
    torchDtype: String(json.torch_dtype ?? json.dtype ?? 'float32'),
  };
}

function gpt2FromHf(json: Json, source: string): ModelConfig {
  const hidden = int(json, source, 'n_embd', 'hidden_size');
  const heads = int(json, source, 'n_head', 'num_attention_heads');
  if (hidden % heads !== 0) fail(source, `n_embd (${hidden}) must be a multiple of n_head (${heads})`);
  const act = String(json.activation_function ?? 'gelu_new');
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh' && act !== 'gelu_fast') {
    fail(source, `"activation_function" is "${act}"; tsugiki supports the tanh GELU ("gelu_new") for GPT-2`);
  }
  if (bool(json, source, 'scale_attn_by_inverse_layer_idx', false) || !bool(json, source, 'scale_attn_weights', true)) {
    fail(source, 'GPT-2 attention must be scaled by 1/√D only ("scale_attn_weights" true, "scale_attn_by_inverse_layer_idx" false)');
  }
  return {
    arch: 'gpt2',
    hfModelType: 'gpt2',
    vocabSize: int(json, source, 'vocab_size'),
    hidden, layers: int(json, source, 'n_layer', 'num_hidden_layers'), heads, kvHeads: heads, headDim: hidden / heads,
    intermediate: json.n_inner == null ? 4 * hidden : int(json, source, 'n_inner'),
    maxPositions: int(json, source, 'n_positions', 'max_position_embeddings'),
    norm: 'layernorm',
    normEps: num(json, source, 'layer_norm_epsilon', 1e-5),
    activation: 'gelu_tanh',
    rope: null,
    learnedPositions: true,
    qkvBias: true, attnOutBias: true, mlpBias: true,
    tieWordEmbeddings: bool(json, source, 'tie_word_embeddings', true),
    slidingWindow: null,
    bosId: tokenId(json.bos_token_id),
    eosId: eosIds(json.eos_token_id),
    padId: tokenId(json.pad_token_id),
    torchDtype: String(json.torch_dtype ?? json.dtype ?? 'float32'),
  };
}

/** Normalises a parsed Hugging Face `config.json`. */
export function configFromHf(json: unknown, source = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(source, 'must be a JSON object (the model\'s config.json)');
  const j = json as Json;
  const modelType = modelTypeOf(j, source);
  if (modelType === 'gpt2') return gpt2FromHf(j, source);
  if (modelType === 'gemma3_text') return gemma3FromHf(j, source);
  return llamaFamilyFromHf(j, source, modelType);
}
