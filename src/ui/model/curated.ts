/**
 * The curated base models: small instruct models that train in a browser tab. Their config.json
 * (the fields tsugiki reads, as published on the Hub) lets the studio show sizes and a memory
 * estimate before anything is downloaded.
 */
import { configFromHf, parameterCount, type ModelConfig } from '../../model/config.ts';
import { defaultModelConfig } from '../default-model.ts';
import { dtypeBytes } from '../estimate.ts';

export interface CuratedModel {
  id: string;
  label: string;
  blurb: string;
  config: ModelConfig;
  /** The files downloaded, in order (config and tokenizer first: they are small). */
  files: string[];
}

const FILES = ['config.json', 'tokenizer_config.json', 'tokenizer.json', 'model.safetensors'];

/** Tokenizer files are a few MB; the download is dominated by the weights. */
const TOKENIZER_BYTES: Record<string, number> = { llama: 2_200_000, qwen2: 7_000_000 };

const SMOLLM2_360M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32,
  num_attention_heads: 15, num_key_value_heads: 5, head_dim: 64, vocab_size: 49152, max_position_embeddings: 8192,
  rms_norm_eps: 1e-5, rope_theta: 100000, hidden_act: 'silu', tie_word_embeddings: true, attention_bias: false, mlp_bias: false,
  bos_token_id: 1, eos_token_id: 2, pad_token_id: 2, torch_dtype: 'bfloat16',
};

const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, sliding_window: 32768, use_sliding_window: false, hidden_act: 'silu', tie_word_embeddings: true,
  bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16',
};

export const CURATED_MODELS: CuratedModel[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', blurb: 'Smallest and fastest: a good first choice.', config: defaultModelConfig(), files: FILES },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', label: 'SmolLM2 360M Instruct', blurb: 'Better answers, about three times slower.', config: configFromHf(SMOLLM2_360M, 'HuggingFaceTB/SmolLM2-360M-Instruct/config.json'), files: FILES },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', blurb: 'Strongest of the three, multilingual; needs a capable GPU.', config: configFromHf(QWEN25_05B, 'Qwen/Qwen2.5-0.5B-Instruct/config.json'), files: FILES },
];

/** Approximate download: every weight in its stored precision plus the tokenizer files. */
export function downloadBytes(m: CuratedModel): number {
  return parameterCount(m.config) * dtypeBytes(m.config.torchDtype) + (TOKENIZER_BYTES[m.config.hfModelType] ?? 2_000_000);
}
