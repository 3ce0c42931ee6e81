import { configFromHf, type ModelConfig } from '../model/config.ts';

/**
 * The model the studio assumes until one is loaded: SmolLM2-135M-Instruct's `config.json`
 * (the fields tsugiki reads), so the adapter step can count parameters and memory from the start.
 */
export const DEFAULT_MODEL_ID = 'HuggingFaceTB/SmolLM2-135M-Instruct';

const SMOLLM2_135M_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  head_dim: 64,
  vocab_size: 49152,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  hidden_act: 'silu',
  tie_word_embeddings: true,
  attention_bias: false,
  mlp_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 2,
  torch_dtype: 'bfloat16',
};

export function defaultModelConfig(): ModelConfig {
  return configFromHf(SMOLLM2_135M_CONFIG, `${DEFAULT_MODEL_ID}/config.json`);
}
