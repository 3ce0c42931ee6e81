import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/io/gguf.ts';
import { configFromGguf, configFromHf, loraTargets, parameterCount, ropeInvFreq, type ModelConfig } from '../../src/model/config.ts';
import { GPT2, LLAMA32_1B, MISTRAL_7B, QWEN25_05B, SMOLLM2_135M } from './config-hub-samples.ts';

const STORIES = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url);

describe('configFromHf on real Hub config.json files', () => {
  it('SmolLM2-135M: llama, GQA 9/3, tied, theta 1e5', () => {
    const c = configFromHf(SMOLLM2_135M);
    expect(c).toMatchObject({
      arch: 'llama', hfModelType: 'llama', vocabSize: 49152, hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64,
      intermediate: 1536, maxPositions: 8192, norm: 'rmsnorm', normEps: 1e-5, activation: 'silu',
      rope: { theta: 100000, rotaryDims: 64, scaling: null }, learnedPositions: false, qkvBias: false, attnOutBias: false,
      mlpBias: false, tieWordEmbeddings: true, bosId: 0, eosId: 0, padId: null, torchDtype: 'bfloat16',
    });
    // Published: 134,515,008 parameters (model.num_parameters()).
    expect(parameterCount(c)).toBe(134_515_008);
  });

  it('Qwen2.5-0.5B: qwen2 has q/k/v bias but no o_proj bias', () => {
    const c = configFromHf(QWEN25_05B);
    expect(c).toMatchObject({
      arch: 'llama', hfModelType: 'qwen2', vocabSize: 151936, hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64,
      intermediate: 4864, normEps: 1e-6, rope: { theta: 1e6, rotaryDims: 64, scaling: null }, qkvBias: true,
      attnOutBias: false, mlpBias: false, tieWordEmbeddings: true, slidingWindow: null, eosId: 151643,
    });
    expect(parameterCount(c)).toBe(494_032_768); // "0.49B" on the model card; num_parameters() = 494,032,768
  });

  it('Llama-3.2-1B: llama3 rope scaling, explicit head_dim', () => {
    const c = configFromHf(LLAMA32_1B);
    expect(c).toMatchObject({
      hidden: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, intermediate: 8192, maxPositions: 131072,
      rope: { theta: 500000, rotaryDims: 64, scaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } },
      tieWordEmbeddings: true, bosId: 128000, eosId: 128001,
    });
    expect(parameterCount(c)).toBe(1_235_814_400);
  });

  it('Mistral-7B-v0.1: untied, sliding window 4096', () => {
    const c = configFromHf(MISTRAL_7B);
    expect(c).toMatchObject({
      hfModelType: 'mistral', hidden: 4096, layers: 32, heads: 32, kvHeads: 8, headDim: 128, intermediate: 14336,
      rope: { theta: 10000, rotaryDims: 128, scaling: null }, tieWordEmbeddings: false, slidingWindow: 4096, bosId: 1, eosId: 2,
    });
    expect(parameterCount(c)).toBe(7_241_732_096);
  });

  it('gpt2: layernorm, gelu_tanh, learned positions, biases everywhere, tied', () => {
    const c = configFromHf(GPT2);
    expect(c).toMatchObject({
      arch: 'gpt2', vocabSize: 50257, hidden: 768, layers: 12, heads: 12, kvHeads: 12, headDim: 64, intermediate: 3072,
      maxPositions: 1024, norm: 'layernorm', normEps: 1e-5, activation: 'gelu_tanh', rope: null, learnedPositions: true,
      qkvBias: true, attnOutBias: true, mlpBias: true, tieWordEmbeddings: true, bosId: 50256, eosId: 50256,
      torchDtype: 'float32',
    });
    expect(parameterCount(c)).toBe(124_439_808);
  });

  it('Llama 3 instruct eos lists and transformers 5 rope_parameters are read', () => {
    const c = configFromHf({ ...LLAMA32_1B, eos_token_id: [128001, 128008, 128009] });
    expect(c.eosId).toEqual([128001, 128008, 128009]);
    const { rope_theta: _theta, rope_scaling: _scaling, ...rest } = LLAMA32_1B;
    const v5 = configFromHf({ ...rest, rope_parameters: { ...LLAMA32_1B.rope_scaling, rope_theta: 500000 } });
    expect(v5.rope).toEqual(configFromHf(LLAMA32_1B).rope);
  });
});

describe('LoRA targets', () => {
  it('llama family: the seven projections; GPT-2: c_attn, c_proj (attn and mlp), c_fc', () => {
    expect(loraTargets(configFromHf(QWEN25_05B))).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(loraTargets(configFromHf(GPT2))).toEqual(['c_attn', 'c_proj', 'c_fc']);
  });
});

describe('refusals name what is wrong', () => {
  it('unknown architecture lists the supported ones', () => {
    expect(() => configFromHf({ architectures: ['GemmaForCausalLM'], model_type: 'gemma' })).toThrow(
      /GemmaForCausalLM is not supported; tsugiki loads LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM, GPT2LMHeadModel/,
    );
  });
  it('missing sizes, other rope scalings and non-tanh GELU are refused', () => {
    const { hidden_size: _h, ...noHidden } = SMOLLM2_135M;
    expect(() => configFromHf(noHidden)).toThrow(/"hidden_size" is missing/);
    expect(() => configFromHf({ ...SMOLLM2_135M, rope_scaling: { type: 'yarn', factor: 4 } })).toThrow(/rope scaling type "yarn" is not supported/);
    expect(() => configFromHf({ ...GPT2, activation_function: 'relu' })).toThrow(/"activation_function" is "relu"/);
    expect(() => configFromHf({ ...SMOLLM2_135M, num_key_value_heads: 4 })).toThrow(/multiple of num_key_value_heads/);
  });
});

describe('configFromGguf on stories260K.gguf', () => {
  it('reads the llama metadata and the vocabulary size from the token list', () => {
    const file = parseGguf(new Uint8Array(readFileSync(STORIES)), 'stories260K.gguf');
    const c: ModelConfig = configFromGguf(file);
    expect(c).toMatchObject({
      arch: 'llama', vocabSize: 512, hidden: 64, layers: 5, heads: 8, kvHeads: 4, headDim: 8, intermediate: 172,
      maxPositions: 2048, rope: { theta: 10000, rotaryDims: 8, scaling: null }, tieWordEmbeddings: false,
      bosId: 1, eosId: 2, padId: null, torchDtype: 'float32',
    });
    expect(c.normEps).toBeCloseTo(1e-5, 12);
    expect(parameterCount(c)).toBe(292_800); // the published size of stories260K
  });
});

describe('ropeInvFreq', () => {
  it('default: theta^(-2i/D)', () => {
    const f = ropeInvFreq({ rope: { theta: 10000, rotaryDims: 8, scaling: null } });
    expect(Array.from(f)).toEqual([1, 0.1, 0.01, 0.001].map((x, i) => expect.closeTo(x, 15 - i)));
  });

  it('llama3: high frequencies kept, low ones divided by factor, the middle band interpolated', () => {
    // D = 8, theta = 1e4: inv_freq 1, 0.1, 0.01, 0.001, wavelengths 2π·(1, 10, 100, 1000).
    // originalMax 64, low 1, high 4: wavelen < 16 kept, > 64 divided by 8, in between smoothed.
    const f = ropeInvFreq({ rope: { theta: 10000, rotaryDims: 8, scaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } } });
    const smooth = (64 / (20 * Math.PI) - 1) / 3; // 62.83… is in [16, 64]
    expect(f[0]).toBe(1);
    expect(f[1]).toBeCloseTo((1 - smooth) * 0.1 / 8 + smooth * 0.1, 15);
    expect(f[2]).toBeCloseTo(0.01 / 8, 15);
    expect(f[3]).toBeCloseTo(0.001 / 8, 15);
  });

  it('llama3 on Llama-3.2-1B: first frequency 1, last = theta^(-62/64) / 32', () => {
    const f = ropeInvFreq(configFromHf(LLAMA32_1B));
    expect(f.length).toBe(32);
    expect(f[0]).toBe(1);
    expect(f[31] / (500000 ** (-62 / 64) / 32)).toBeCloseTo(1, 12);
  });
});
