/**
 * Gemma 3 text models (`Gemma3ForCausalLM`, model_type `gemma3_text`: gemma-3-270m, gemma-3-1b)
 * from config.json, as modeling_gemma3.py builds them:
 *   x = embed(ids) · √C (the scale cast to the embeddings' dtype);  per layer
 *   x += post_attention_layernorm(o_proj(attn(q_norm(q), k_norm(k), v)))   (after input_layernorm)
 *   x += post_feedforward_layernorm(down(gelu_tanh(gate(n)) · up(n)))       (n = pre_feedforward_layernorm(x))
 * Every RMSNorm multiplies by (1 + w); scores are scaled by query_pre_attn_scalar^-½; layer_types
 * (or every sliding_window_pattern-th layer full, the rest sliding) choose sliding-window layers,
 * whose RoPE base is rope_local_base_freq; tied embeddings by default.
 */
import { f32ToBf16, f32ToF16, bf16ToF32, f16ToF32 } from '../io/halfs.ts';
import { bool, eosIds, fail, int, num, tokenId, type Json, type ModelConfig, type RopeConfig } from './config.ts';

/** √C as HF's Gemma3TextScaledWordEmbedding applies it: cast to the embeddings' dtype. */
export function gemmaEmbedScale(hidden: number, torchDtype: string): number {
  const s = Float32Array.of(Math.sqrt(hidden));
  if (torchDtype === 'bfloat16') return bf16ToF32(f32ToBf16(s))[0];
  if (torchDtype === 'float16') return f16ToF32(f32ToF16(s))[0];
  return s[0];
}

/** Sliding (true) or full (false) attention per layer, from layer_types or the pattern. */
function slidingLayers(json: Json, source: string, layers: number): boolean[] {
  const types = json.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== layers) fail(source, `"layer_types" lists ${types.length} layers but "num_hidden_layers" is ${layers}`);
    return types.map((t, l) => {
      if (t === 'sliding_attention') return true;
      if (t === 'full_attention') return false;
      fail(source, `"layer_types"[${l}] is ${JSON.stringify(t)}; Gemma 3 layers are "sliding_attention" or "full_attention"`);
    });
  }
  const pattern = json.sliding_window_pattern ?? json._sliding_window_pattern ?? 6;
  if (typeof pattern !== 'number' || !Number.isInteger(pattern) || pattern < 1) fail(source, `"sliding_window_pattern" should be a positive integer but is ${JSON.stringify(pattern)}`);
  return Array.from({ length: layers }, (_, l) => (l + 1) % pattern !== 0);
}

/** The rope_theta of one layer type: transformers ≥ 5 nests them in rope_parameters. */
function ropeTheta(json: Json, source: string, layerType: 'full_attention' | 'sliding_attention', fallback: number): number {
  const params = json.rope_parameters as Json | undefined;
  const nested = params && typeof params === 'object' ? (params[layerType] as Json | undefined) : undefined;
  const scaling = nested ?? (layerType === 'full_attention' ? (json.rope_scaling as Json | null | undefined) : null);
  if (scaling && typeof scaling === 'object') {
    const type = String(scaling.rope_type ?? scaling.type ?? 'default');
    if (type !== 'default') fail(source, `rope scaling type "${type}" on ${layerType} layers is not supported; tsugiki loads Gemma 3 270M and 1B, which have none`);
  }
  if (nested && typeof nested.rope_theta === 'number') return nested.rope_theta;
  return num(json, source, layerType === 'full_attention' ? 'rope_theta' : 'rope_local_base_freq', fallback);
}

export function gemma3FromHf(json: Json, source: string): ModelConfig {
  const hidden = int(json, source, 'hidden_size');
  const heads = int(json, source, 'num_attention_heads');
  const kvHeads = json.num_key_value_heads == null ? heads : int(json, source, 'num_key_value_heads');
  const headDim = json.head_dim == null ? 256 : int(json, source, 'head_dim');
  const layers = int(json, source, 'num_hidden_layers');
  if (headDim % 2 !== 0) fail(source, `"head_dim" ${headDim} must be even`);
  if (heads % kvHeads !== 0) fail(source, `num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`);
  const act = String(json.hidden_activation ?? json.hidden_act ?? 'gelu_pytorch_tanh');
  if (act !== 'gelu_pytorch_tanh' && act !== 'gelu_new') fail(source, `"hidden_activation" is "${act}"; tsugiki supports the tanh GELU ("gelu_pytorch_tanh") for Gemma 3`);
  for (const key of ['attn_logit_softcapping', 'final_logit_softcapping']) {
    if (json[key] != null) fail(source, `"${key}" is ${JSON.stringify(json[key])}; Gemma 3 has none and tsugiki does not apply softcapping`);
  }
  if (bool(json, source, 'use_bidirectional_attention', false)) fail(source, '"use_bidirectional_attention" is true (an embedding model); tsugiki trains causal language models');
  const window = json.sliding_window == null ? 4096 : int(json, source, 'sliding_window');
  const sliding = slidingLayers(json, source, layers);
  const rope = (theta: number): RopeConfig => ({ theta, rotaryDims: headDim, scaling: null });
  const torchDtype = String(json.torch_dtype ?? json.dtype ?? 'float32');
  const attnBias = bool(json, source, 'attention_bias', false);
  const queryPreAttnScalar = num(json, source, 'query_pre_attn_scalar', 256);
  if (!(queryPreAttnScalar > 0)) fail(source, `"query_pre_attn_scalar" should be positive but is ${queryPreAttnScalar}`);
  return {
    arch: 'llama',
    hfModelType: 'gemma3_text',
    vocabSize: int(json, source, 'vocab_size'),
    hidden, layers, heads, kvHeads, headDim,
    intermediate: int(json, source, 'intermediate_size'),
    maxPositions: json.max_position_embeddings == null ? 131072 : int(json, source, 'max_position_embeddings'),
    norm: 'rmsnorm',
    normEps: num(json, source, 'rms_norm_eps', 1e-6),
    activation: 'gelu_tanh',
    rope: rope(ropeTheta(json, source, 'full_attention', 1_000_000)),
    ropeLocal: rope(ropeTheta(json, source, 'sliding_attention', 10_000)),
    learnedPositions: false,
    qkvBias: attnBias, attnOutBias: attnBias, mlpBias: false,
    tieWordEmbeddings: bool(json, source, 'tie_word_embeddings', true),
    slidingWindow: null,
    layerWindows: sliding.map((s) => (s ? window : null)),
    qkNorm: true,
    normPlusOne: true,
    sandwichNorms: true,
    embedScale: gemmaEmbedScale(hidden, torchDtype),
    attnScale: 1 / Math.sqrt(queryPreAttnScalar),
    bosId: json.bos_token_id === undefined ? 2 : tokenId(json.bos_token_id),
    eosId: json.eos_token_id === undefined ? 1 : eosIds(json.eos_token_id),
    padId: json.pad_token_id === undefined ? 0 : tokenId(json.pad_token_id),
    torchDtype,
  };
}
