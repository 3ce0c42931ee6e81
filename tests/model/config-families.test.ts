/**
 * Qwen3 and Gemma 3 config.json files as published on the Hub: normalised sizes, the features
 * that set them apart from Llama, parameter counts equal to model.num_parameters(), and clear
 * refusals for the Gemma variants tsugiki does not run.
 */
import { describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/io/gguf.ts';
import { configFromGguf, configFromHf, layerRope, layerWindow, loraTargets, parameterCount } from '../../src/model/config.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { mergedGguf } from '../../src/train/gguf-files.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';
import { GEMMA3_1B, GEMMA3_270M, QWEN3_06B, QWEN3_17B } from './config-hub-samples.ts';

const QWEN3_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

describe('configFromHf on Qwen3 config.json files', () => {
  it('Qwen3-0.6B: head_dim 128 ≠ hidden/heads, q/k norms, no bias, tied', () => {
    const c = configFromHf(QWEN3_06B);
    expect(c).toMatchObject({
      arch: 'llama', hfModelType: 'qwen3', vocabSize: 151936, hidden: 1024, layers: 28, heads: 16, kvHeads: 8, headDim: 128,
      intermediate: 3072, maxPositions: 40960, normEps: 1e-6, activation: 'silu', rope: { theta: 1e6, rotaryDims: 128, scaling: null },
      qkvBias: false, attnOutBias: false, qkNorm: true, tieWordEmbeddings: true, slidingWindow: null, bosId: 151643, eosId: 151645,
    });
    expect(c.normPlusOne).toBeUndefined();
    expect(loraTargets(c)).toEqual(QWEN3_TARGETS);
    // model.num_parameters() = 596,049,920 ("0.6B", 0.44B without embeddings); the Hub's safetensors
    // count (752M) includes the stored copy of the tied lm_head.
    expect(parameterCount(c)).toBe(596_049_920);
  });

  it('Qwen3-1.7B: 1,720,574,976 parameters (tied; "1.7B", 1.4B without embeddings)', () => {
    const c = configFromHf(QWEN3_17B);
    expect(c).toMatchObject({ hidden: 2048, intermediate: 6144, heads: 16, kvHeads: 8, headDim: 128, layers: 28, qkNorm: true });
    expect(parameterCount(c)).toBe(1_720_574_976);
  });

  it('Qwen3 with attention_bias has biases on q, k, v and o (Qwen3Attention), none on the MLP', () => {
    expect(configFromHf({ ...QWEN3_06B, attention_bias: true })).toMatchObject({ qkvBias: true, attnOutBias: true, mlpBias: false });
  });

  it('refuses Qwen3 with use_sliding_window', () => {
    expect(() => configFromHf({ ...QWEN3_06B, use_sliding_window: true })).toThrow(/use_sliding_window.*full attention only/);
  });
});

describe('configFromHf on Gemma 3 config.json files', () => {
  it('gemma-3-270m: layer_types, four norms with (1 + w), GeGLU, √C in bf16, query_pre_attn_scalar', () => {
    const c = configFromHf(GEMMA3_270M);
    expect(c).toMatchObject({
      arch: 'llama', hfModelType: 'gemma3_text', vocabSize: 262144, hidden: 640, layers: 18, heads: 4, kvHeads: 1, headDim: 256,
      intermediate: 2048, maxPositions: 32768, normEps: 1e-6, activation: 'gelu_tanh', rope: { theta: 1e6, rotaryDims: 256, scaling: null },
      ropeLocal: { theta: 10000, rotaryDims: 256, scaling: null }, qkNorm: true, normPlusOne: true, sandwichNorms: true,
      tieWordEmbeddings: true, bosId: 2, eosId: 1, padId: 0, attnScale: 1 / 16,
    });
    // HF multiplies by √640 = 25.298… cast to bfloat16: 25.25.
    expect(c.embedScale).toBe(25.25);
    const full = [5, 11, 17];
    for (let l = 0; l < 18; l++) {
      expect(layerWindow(c, l)).toBe(full.includes(l) ? null : 512);
      expect(layerRope(c, l)!.theta).toBe(full.includes(l) ? 1e6 : 10000);
    }
    expect(loraTargets(c)).toEqual(QWEN3_TARGETS);
    // Published: 268,098,176 parameters (170M of them the 262k-token embeddings).
    expect(parameterCount(c)).toBe(268_098_176);
  });

  it('gemma-3-1b-it: the same layout from sliding_window_pattern, two EOS ids, 999,885,952 parameters', () => {
    const c = configFromHf(GEMMA3_1B);
    expect(c).toMatchObject({ hidden: 1152, layers: 26, intermediate: 6912, eosId: [1, 106], embedScale: 34 });
    expect(c.layerWindows!.map((w, l) => (w === null ? l : -1)).filter((l) => l >= 0)).toEqual([5, 11, 17, 23]);
    expect(parameterCount(c)).toBe(999_885_952);
  });

  it('transformers ≥ 5 rope_parameters per layer type', () => {
    const { rope_theta: _t, rope_local_base_freq: _l, ...rest } = GEMMA3_270M;
    const c = configFromHf({ ...rest, rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } } });
    expect([c.rope!.theta, c.ropeLocal!.theta]).toEqual([1e6, 1e4]);
  });

  it('refuses what tsugiki does not run, saying why', () => {
    expect(() => configFromHf({ ...GEMMA3_270M, final_logit_softcapping: 30 })).toThrow(/final_logit_softcapping.*softcapping/);
    expect(() => configFromHf({ ...GEMMA3_270M, use_bidirectional_attention: true })).toThrow(/embedding model/);
    expect(() => configFromHf({ ...GEMMA3_270M, layer_types: ['full_attention'] })).toThrow(/lists 1 layers but "num_hidden_layers" is 18/);
    expect(() => configFromHf({ ...GEMMA3_270M, rope_scaling: { rope_type: 'linear', factor: 8 } })).toThrow(/rope scaling type "linear"/);
    expect(() => configFromHf({ model_type: 'gemma3', text_config: {} })).toThrow(/vision-language.*gemma-3-270m/);
  });
});

describe('configFromGguf on gemma3 files', () => {
  const files = tinyModelFiles('gemma3', { config: { num_hidden_layers: 6, layer_types: null, sliding_window: 4, query_pre_attn_scalar: 16 } });
  const file = parseGguf(mergedGguf(loadModelFiles(files, 'tiny'), files, null, { fileType: 'F32' }), 'tiny.gguf');

  it('llama.cpp\'s fixed layout when the file says nothing more: every sixth layer full, local base 10000', () => {
    const c = configFromGguf(file);
    expect(c).toMatchObject({ hfModelType: 'gemma3_text', layerWindows: [4, 4, 4, 4, 4, null], ropeLocal: { theta: 10000 }, attnScale: 0.25, normPlusOne: true });
    expect(c.embedScale).toBe(Math.fround(Math.sqrt(24)));
  });

  it('a newer converter\'s sliding_window_pattern (per layer) and rope.freq_base_swa are read', () => {
    const c = configFromGguf({ ...file, metadata: { ...file.metadata, 'gemma3.attention.sliding_window_pattern': [true, false, true, true, false, true], 'gemma3.rope.freq_base_swa': 20000 } });
    expect(c.layerWindows).toEqual([4, null, 4, 4, null, 4]);
    expect(c.ropeLocal!.theta).toBe(20000);
    expect(() => configFromGguf({ ...file, metadata: { ...file.metadata, 'gemma3.attention.sliding_window_pattern': [true] } })).toThrow(/has 1 entries but the model has 6 layers/);
  });
});

describe('a Gemma 3 folder whose tokenizer also holds the vision model\'s <image_soft_token>', () => {
  /** The tiny Gemma with one more added token at id vocab_size, as gemma-3-270m's tokenizer.json has. */
  function withExtraToken(content: string) {
    const files = tinyModelFiles('gemma3');
    const json = JSON.parse(new TextDecoder().decode(files['tokenizer.json']));
    json.added_tokens.push({ id: 100, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    json.model.vocab[content] = 100;
    return { ...files, 'tokenizer.json': new TextEncoder().encode(JSON.stringify(json)) };
  }

  it('loads: text never encodes to it', () => {
    const m = loadModelFiles(withExtraToken('<image_soft_token>'), 'tiny-gemma3');
    expect([m.config.vocabSize, m.tokenizer.vocabSize]).toEqual([100, 101]);
  });

  it('any other token past the embeddings is refused', () => {
    expect(() => loadModelFiles(withExtraToken('<extra>'), 'tiny-gemma3')).toThrow(/tokenizer.json has 101 tokens but config.json says vocab_size 100/);
  });
});
