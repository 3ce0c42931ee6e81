/**
 * A Hugging Face config.json for a Qwen3 or Gemma 3 model known only by its normalised config
 * (a GGUF source being merged or exported): the keys configFromHf reads back to the same model.
 */
import type { ModelConfig } from './config.ts';

type Json = Record<string, unknown>;

function common(c: ModelConfig): Json {
  return {
    vocab_size: c.vocabSize, hidden_size: c.hidden, intermediate_size: c.intermediate, num_hidden_layers: c.layers,
    num_attention_heads: c.heads, num_key_value_heads: c.kvHeads, head_dim: c.headDim, max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.normEps, rope_theta: c.rope?.theta ?? 10000, rope_scaling: null, attention_bias: c.qkvBias,
    tie_word_embeddings: c.tieWordEmbeddings, bos_token_id: c.bosId, eos_token_id: c.eosId,
    ...(c.padId !== null ? { pad_token_id: c.padId } : {}), use_cache: true,
  };
}

/** config.json for qwen3 / gemma3_text, or null for the other families. */
export function familyConfigJson(c: ModelConfig): Json | null {
  if (c.hfModelType === 'qwen3') {
    return { architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', ...common(c), hidden_act: 'silu', use_sliding_window: false, sliding_window: null };
  }
  if (c.hfModelType !== 'gemma3_text') return null;
  const windows = c.layerWindows ?? [];
  return {
    architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', ...common(c),
    hidden_activation: 'gelu_pytorch_tanh',
    query_pre_attn_scalar: Math.round(1 / (c.attnScale ?? 1 / Math.sqrt(c.headDim)) ** 2),
    sliding_window: windows.find((w) => w !== null) ?? 4096,
    layer_types: windows.map((w) => (w === null ? 'full_attention' : 'sliding_attention')),
    rope_local_base_freq: c.ropeLocal?.theta ?? 10000,
    attn_logit_softcapping: null, final_logit_softcapping: null, use_bidirectional_attention: false,
  };
}
