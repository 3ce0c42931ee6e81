/**
 * ModelConfig from GGUF metadata of a `llama` (Llama 1/2, TinyLlama, llama2.c exports), `qwen3` or
 * `gemma3` model, with the keys llama.cpp's convert_hf_to_gguf.py writes (`<arch>.embedding_length`,
 * `<arch>.attention.head_count`, …). What GGUF does not store is what llama.cpp itself assumes:
 * Gemma 3 slides on every layer but each sixth (its `set_swa_pattern(6)`), with a local RoPE base
 * of 10000 (both read from `attention.sliding_window_pattern` / `rope.freq_base_swa` when a file
 * has them), scores scaled by 1/√D (its f_attention_scale for the 270M/1B sizes) and embeddings by
 * √C in f32. Gemma's norms are stored as (1 + w) by the converter; gguf-llama.ts takes the 1 off.
 */
import type { GgufFile } from '../io/gguf.ts';
import { ggufHas, ggufNumber, ggufString, ggufStringArray } from '../io/gguf-meta.ts';
import { GGML_BF16, GGML_F16 } from '../io/ggml-types.ts';
import { fail, SUPPORTED_LIST, type ModelConfig } from './config.ts';

/** GGUF architectures tsugiki reads, with the HF model_type each stands for. */
export const GGUF_ARCHITECTURES: Record<string, string> = { llama: 'llama', qwen3: 'qwen3', gemma3: 'gemma3_text' };

/** llama.cpp's fixed Gemma 3 layout (llama-model.cpp, LLM_ARCH_GEMMA3). */
const GEMMA3_SWA_PATTERN = 6;
const GEMMA3_LOCAL_ROPE_BASE = 10000;

function ggufTokenId(file: GgufFile, key: string, vocabSize: number): number | null {
  const v = file.metadata[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < vocabSize ? v : null;
}

/**
 * Which Gemma 3 layers slide: the file's own `attention.sliding_window_pattern` when a newer
 * converter wrote one (a bool per layer, or the period), else llama.cpp's fixed period of 6.
 */
function gemmaSlidingLayers(file: GgufFile, key: string, layers: number): boolean[] {
  const v = file.metadata[key];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const flags = Array.from(v as ArrayLike<unknown>, (x) => Boolean(x));
    if (flags.length !== layers) fail(file.source, `${key} has ${flags.length} entries but the model has ${layers} layers`);
    return flags;
  }
  const period = typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : GEMMA3_SWA_PATTERN;
  return Array.from({ length: layers }, (_, l) => (l + 1) % period !== 0);
}

export function configFromGguf(file: GgufFile): ModelConfig {
  const source = file.source;
  const arch = ggufString(file, 'general.architecture');
  if (!(arch in GGUF_ARCHITECTURES)) fail(source, `GGUF architecture "${arch}" is not supported; tsugiki loads ${SUPPORTED_LIST}`);
  const k = (key: string) => `${arch}.${key}`;
  const gemma = arch === 'gemma3';
  const hidden = ggufNumber(file, k('embedding_length'));
  const heads = ggufNumber(file, k('attention.head_count'));
  const kvHeads = ggufNumber(file, k('attention.head_count_kv'), heads);
  const headDim = ggufNumber(file, k('attention.key_length'), hidden / heads);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) fail(source, `head dim ${headDim} must be an even integer`);
  if (heads % kvHeads !== 0) fail(source, `${k('attention.head_count')} (${heads}) must be a multiple of head_count_kv (${kvHeads})`);
  const valueDim = ggufNumber(file, k('attention.value_length'), headDim);
  if (valueDim !== headDim) fail(source, `${k('attention.value_length')} is ${valueDim} but the key length is ${headDim}; tsugiki needs equal key and value head dims`);
  const rotaryDims = ggufNumber(file, k('rope.dimension_count'), headDim);
  if (rotaryDims !== headDim) fail(source, `${k('rope.dimension_count')} is ${rotaryDims} but the head dim is ${headDim}; tsugiki supports rotary embeddings over the whole head only`);
  const scalingType = ggufString(file, k('rope.scaling.type'), 'none');
  if (scalingType !== 'none' || file.tensors.some((t) => t.name === 'rope_freqs.weight')) {
    fail(source, 'this GGUF file uses RoPE frequency scaling, which tsugiki reads only from Hugging Face config.json; load the model\'s Hugging Face folder instead');
  }
  for (const key of ['attn_logit_softcapping', 'final_logit_softcapping']) {
    if (ggufHas(file, k(key))) fail(source, `${k(key)} is set; tsugiki does not apply logit softcapping (Gemma 3 has none)`);
  }
  const vocabSize = ggufHas(file, 'tokenizer.ggml.tokens')
    ? ggufStringArray(file, 'tokenizer.ggml.tokens').length
    : ggufNumber(file, k('vocab_size'));
  const layers = ggufNumber(file, k('block_count'));
  const weightTypes = file.tensors.filter((t) => t.dims.length === 2).map((t) => t.type);
  const torchDtype = weightTypes.every((t) => t === GGML_F16) ? 'float16' : weightTypes.every((t) => t === GGML_BF16) ? 'bfloat16' : 'float32';
  const rope = { theta: ggufNumber(file, k('rope.freq_base'), 10000), rotaryDims, scaling: null };
  const config: ModelConfig = {
    arch: 'llama',
    hfModelType: GGUF_ARCHITECTURES[arch],
    vocabSize,
    hidden,
    layers,
    heads, kvHeads, headDim,
    intermediate: ggufNumber(file, k('feed_forward_length')),
    maxPositions: ggufNumber(file, k('context_length'), 2048),
    norm: 'rmsnorm',
    normEps: ggufNumber(file, k('attention.layer_norm_rms_epsilon'), gemma ? 1e-6 : 1e-5),
    activation: gemma ? 'gelu_tanh' : 'silu',
    rope,
    learnedPositions: false,
    // Biases, when a converter wrote them (Qwen3 with attention_bias): from the tensors present.
    qkvBias: file.tensors.some((t) => t.name === 'blk.0.attn_q.bias'),
    attnOutBias: file.tensors.some((t) => t.name === 'blk.0.attn_output.bias'),
    mlpBias: file.tensors.some((t) => t.name === 'blk.0.ffn_down.bias'),
    tieWordEmbeddings: !file.tensors.some((t) => t.name === 'output.weight'),
    slidingWindow: null,
    bosId: ggufTokenId(file, 'tokenizer.ggml.bos_token_id', vocabSize),
    eosId: ggufTokenId(file, 'tokenizer.ggml.eos_token_id', vocabSize),
    padId: ggufTokenId(file, 'tokenizer.ggml.padding_token_id', vocabSize),
    torchDtype,
  };
  if (arch === 'qwen3') config.qkNorm = true;
  if (gemma) {
    const window = ggufNumber(file, k('attention.sliding_window'));
    const sliding = gemmaSlidingLayers(file, k('attention.sliding_window_pattern'), layers);
    Object.assign(config, {
      layerWindows: sliding.map((s) => (s ? window : null)),
      ropeLocal: { theta: ggufNumber(file, k('rope.freq_base_swa'), GEMMA3_LOCAL_ROPE_BASE), rotaryDims, scaling: null },
      qkNorm: true,
      normPlusOne: true,
      sandwichNorms: true,
      embedScale: Math.fround(Math.sqrt(hidden)),
      attnScale: 1 / Math.sqrt(headDim),
    });
  }
  return config;
}
