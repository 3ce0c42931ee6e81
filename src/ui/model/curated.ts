/**
 * The curated base models: small instruct models that train in a browser tab. Their config.json
 * (the fields tsugiki reads, as published on the Hub) lets the studio show sizes and the engine's
 * memory plan before anything is downloaded. The larger ones train on a 4-bit base: quantized when
 * loaded (src/model/quantize-base.ts: Q4_K block linears, Q6_K embeddings; the download is the
 * published bf16 checkpoint).
 */
import { configFromHf, type ModelConfig } from '../../model/config.ts';
import { planWeights, type BaseWeights } from '../../model/plan-run.ts';
import { defaultModelConfig } from '../default-model.ts';

export interface CuratedModel {
  id: string;
  label: string;
  blurb: string;
  config: ModelConfig;
  /** The files downloaded, in order (config and tokenizer first: they are small). */
  files: string[];
  /** How the frozen weights are held on the GPU: as published, or 4-bit block linears. */
  base: BaseWeights;
  /** The checkpoint also stores the tied lm_head (Qwen3): it is downloaded though not used. */
  storesTiedHead?: boolean;
  /** The Hub asks for an access token (accept the license on the model's page first). */
  gated?: boolean;
}

const FILES = ['config.json', 'tokenizer_config.json', 'tokenizer.json', 'model.safetensors'];

/** Tokenizer files are a few MB; the download is dominated by the weights. */
const TOKENIZER_BYTES: Record<string, number> = { llama: 2_200_000, qwen2: 7_000_000, qwen3: 11_400_000, gemma3_text: 34_600_000 };
/** Llama 3's tokenizer.json (128,256 tokens) is about 9 MB. */
const LLAMA3_TOKENIZER_BYTES = 9_100_000;

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

const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28,
  num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, max_position_embeddings: 40960,
  rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null, attention_bias: false, use_sliding_window: false, sliding_window: null,
  hidden_act: 'silu', tie_word_embeddings: true, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16',
};

const GEMMA3_270M_IT = {
  architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', hidden_size: 640, intermediate_size: 2048, num_hidden_layers: 18,
  num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, vocab_size: 262144, max_position_embeddings: 32768,
  rms_norm_eps: 1e-6, rope_theta: 1000000.0, rope_local_base_freq: 10000.0, rope_scaling: null, sliding_window: 512,
  _sliding_window_pattern: 6, layer_types: Array.from({ length: 18 }, (_, l) => ((l + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention')),
  query_pre_attn_scalar: 256, hidden_activation: 'gelu_pytorch_tanh', attn_logit_softcapping: null, final_logit_softcapping: null,
  attention_bias: false, use_bidirectional_attention: false, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0, torch_dtype: 'bfloat16',
};

const LLAMA32_1B_INSTRUCT = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
  num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072,
  rms_norm_eps: 1e-5, rope_theta: 500000.0, hidden_act: 'silu', tie_word_embeddings: true, attention_bias: false, mlp_bias: false,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], torch_dtype: 'bfloat16',
};

const QWEN25_15B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28,
  num_attention_heads: 12, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, sliding_window: 32768, use_sliding_window: false, hidden_act: 'silu', tie_word_embeddings: true,
  bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16',
};

const SMOLLM2_17B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 24,
  num_attention_heads: 32, num_key_value_heads: 32, vocab_size: 49152, max_position_embeddings: 8192, rms_norm_eps: 1e-5,
  rope_theta: 130000, hidden_act: 'silu', tie_word_embeddings: true, attention_bias: false, mlp_bias: false,
  bos_token_id: 1, eos_token_id: 2, pad_token_id: 2, torch_dtype: 'bfloat16',
};

const hub = (id: string, json: Record<string, unknown>) => configFromHf(json, `${id}/config.json`);

export const CURATED_MODELS: CuratedModel[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', blurb: 'Smallest and fastest: a good first choice.', config: defaultModelConfig(), files: FILES, base: 'source' },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', label: 'SmolLM2 360M Instruct', blurb: 'Better answers, about three times slower.', config: hub('HuggingFaceTB/SmolLM2-360M-Instruct', SMOLLM2_360M), files: FILES, base: 'source' },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', blurb: 'Multilingual and strong for its size; needs a capable GPU.', config: hub('Qwen/Qwen2.5-0.5B-Instruct', QWEN25_05B), files: FILES, base: 'source' },
  {
    id: 'meta-llama/Llama-3.2-1B-Instruct', label: 'Llama 3.2 1B Instruct (4-bit base)', blurb: 'Meta’s small Llama; needs a Hugging Face token with its license accepted.',
    config: hub('meta-llama/Llama-3.2-1B-Instruct', LLAMA32_1B_INSTRUCT), files: FILES, base: '4bit', gated: true,
  },
  { id: 'Qwen/Qwen2.5-1.5B-Instruct', label: 'Qwen2.5 1.5B Instruct (4-bit base)', blurb: 'Much stronger answers; a large download and a capable GPU.', config: hub('Qwen/Qwen2.5-1.5B-Instruct', QWEN25_15B), files: FILES, base: '4bit' },
  { id: 'HuggingFaceTB/SmolLM2-1.7B-Instruct', label: 'SmolLM2 1.7B Instruct (4-bit base)', blurb: 'The largest SmolLM2, English; a large download.', config: hub('HuggingFaceTB/SmolLM2-1.7B-Instruct', SMOLLM2_17B), files: FILES, base: '4bit' },
  {
    id: 'google/gemma-3-270m-it', label: 'Gemma 3 270M Instruct',
    blurb: 'Made by Google for task fine-tuning; 262k-token vocabulary. Gated: accept its license on the Hub and give an access token.',
    config: hub('google/gemma-3-270m-it', GEMMA3_270M_IT), files: FILES, base: 'source', gated: true,
  },
  {
    id: 'Qwen/Qwen3-0.6B', label: 'Qwen3 0.6B', blurb: 'Newest Qwen, chat and reasoning in one model; needs a capable GPU.',
    config: hub('Qwen/Qwen3-0.6B', QWEN3_06B), files: FILES, base: 'source', storesTiedHead: true,
  },
];

/** Approximate download: the published weights (as stored, whatever the GPU base) plus the tokenizer files. */
export function downloadBytes(m: CuratedModel): number {
  const head = m.storesTiedHead ? m.config.vocabSize * m.config.hidden * (/float16|bfloat16/i.test(m.config.torchDtype) ? 2 : 4) : 0;
  const weights = planWeights(m.config).reduce((s, b) => s + b.bytes, 0) + head;
  const tokenizer = m.config.vocabSize === 128256 ? LLAMA3_TOKENIZER_BYTES : (TOKENIZER_BYTES[m.config.hfModelType] ?? 2_000_000);
  return weights + tokenizer;
}
