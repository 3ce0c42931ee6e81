/**
 * config.json and generation_config.json of an exported folder. A Hugging Face source keeps its
 * own config.json; a GGUF source gets one written from the normalised config (LlamaForCausalLM, or
 * Qwen3ForCausalLM / Gemma3ForCausalLM: src/model/config-json.ts).
 * Both gain `transformers.js_config.dtype`, which tells transformers.js which ONNX file to load
 * (fp32 → onnx/model.onnx, fp16 → onnx/model_fp16.onnx) without the caller naming a dtype.
 */
import type { ModelConfig } from '../model/config.ts';
import { familyConfigJson } from '../model/config-json.ts';

type Json = Record<string, unknown>;

export type ExportDtype = 'f32' | 'f16';

/** transformers.js dtype names and the ONNX file each loads. */
export const DTYPE_FILES: Record<ExportDtype, { tjs: string; file: string; torch: string }> = {
  f32: { tjs: 'fp32', file: 'onnx/model.onnx', torch: 'float32' },
  f16: { tjs: 'fp16', file: 'onnx/model_fp16.onnx', torch: 'float16' },
};

function parse(bytes: Uint8Array | undefined, name: string): Json | null {
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch {
    // fall through to the error below
  }
  throw new Error(`export: ${name} of the source model is not a JSON object; download it again`);
}

/** A config.json for a Llama-family model known only by its normalised config (a GGUF source). */
function llamaConfigJson(c: ModelConfig): Json {
  const rope = c.rope!;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hidden,
    intermediate_size: c.intermediate,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.normEps,
    rope_theta: rope.theta,
    rope_scaling: rope.scaling
      ? {
          rope_type: 'llama3', factor: rope.scaling.factor, low_freq_factor: rope.scaling.lowFreqFactor,
          high_freq_factor: rope.scaling.highFreqFactor, original_max_position_embeddings: rope.scaling.originalMaxPositions,
        }
      : null,
    attention_bias: c.qkvBias,
    mlp_bias: c.mlpBias,
    tie_word_embeddings: c.tieWordEmbeddings,
    bos_token_id: c.bosId,
    eos_token_id: c.eosId,
    ...(c.padId !== null ? { pad_token_id: c.padId } : {}),
    use_cache: true,
  };
}

/**
 * config.json of the export: the source's own (HF) or one derived from the normalised config
 * (GGUF). `dataChunks` external data files go with the model (transformers.js loads that many).
 */
export function exportConfigJson(config: ModelConfig, files: Record<string, Uint8Array>, dtype: ExportDtype, dataChunks = 0): Json {
  const source = parse(files['config.json'], 'config.json');
  if (!source && config.arch !== 'llama') throw new Error('export: a GPT-2 model needs its config.json; export from its Hugging Face folder');
  const json: Json = source ? { ...source } : (familyConfigJson(config) ?? llamaConfigJson(config));
  json.torch_dtype = DTYPE_FILES[dtype].torch;
  const previous = typeof json['transformers.js_config'] === 'object' && json['transformers.js_config'] !== null ? (json['transformers.js_config'] as Json) : {};
  json['transformers.js_config'] = { ...previous, dtype: DTYPE_FILES[dtype].tjs, kv_cache_dtype: 'float32', use_external_data_format: dataChunks > 0 ? dataChunks : false };
  return json;
}

/** generation_config.json: the source's own, or BOS/EOS/PAD from the config. */
export function exportGenerationConfig(config: ModelConfig, files: Record<string, Uint8Array>): Json {
  const source = parse(files['generation_config.json'], 'generation_config.json');
  if (source) return source;
  return {
    _from_model_config: true,
    ...(config.bosId !== null ? { bos_token_id: config.bosId } : {}),
    ...(config.eosId !== null ? { eos_token_id: config.eosId } : {}),
    ...(config.padId !== null ? { pad_token_id: config.padId } : {}),
  };
}
