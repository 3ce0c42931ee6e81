import { describe, it, expect } from 'vitest';
import {
  AdapterConfigError, adapterConfigProblems, defaultAdapterConfig, loraScale, parseLayers, parseTargets,
  validateAdapterConfig, type AdapterConfig,
} from '../../src/lora/config.ts';
import { targetNames, type LoraModelShape } from '../../src/lora/modules.ts';

// SmolLM2-135M's config.json: hidden 576, 30 layers, 9 heads, 3 KV heads, head dim 64, MLP 1536.
const SMOL: LoraModelShape = { arch: 'llama', hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, intermediate: 1536 };
const GPT2: LoraModelShape = { arch: 'gpt2', hidden: 768, layers: 12, heads: 12, kvHeads: 12, headDim: 64, intermediate: 3072 };

const base = (over: Partial<AdapterConfig> = {}): AdapterConfig => ({ ...defaultAdapterConfig('llama'), ...over });

function problemOf(f: () => unknown): AdapterConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AdapterConfigError);
    return e as AdapterConfigError;
  }
  throw new Error('expected an AdapterConfigError');
}

describe('adapter settings validation', () => {
  it('accepts PEFT defaults for both architectures', () => {
    expect(adapterConfigProblems(defaultAdapterConfig('llama'), SMOL)).toEqual([]);
    expect(adapterConfigProblems(defaultAdapterConfig('gpt2'), GPT2)).toEqual([]);
    expect(defaultAdapterConfig('llama')).toMatchObject({ rank: 8, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] });
  });

  it('says what is wrong with rank, alpha and dropout', () => {
    expect(adapterConfigProblems(base({ rank: 0 }), SMOL)).toEqual(['rank must be a whole number ≥ 1 (got 0)']);
    expect(adapterConfigProblems(base({ rank: 2.5 }), SMOL)).toEqual(['rank must be a whole number ≥ 1 (got 2.5)']);
    expect(adapterConfigProblems(base({ alpha: 0 }), SMOL)[0]).toMatch(/^alpha must be a number > 0 \(got 0\)/);
    expect(adapterConfigProblems(base({ alpha: Number.NaN }), SMOL)[0]).toMatch(/^alpha must be a number > 0/);
    expect(adapterConfigProblems(base({ dropout: 1 }), SMOL)[0]).toMatch(/^dropout must be in \[0, 1\) \(got 1\)/);
    expect(adapterConfigProblems(base({ dropout: -0.1 }), SMOL)[0]).toMatch(/^dropout must be in \[0, 1\)/);
    expect(adapterConfigProblems(base({ dropout: 0 }), SMOL)).toEqual([]);
  });

  it('lists unknown targets against the architecture module names', () => {
    const [msg] = adapterConfigProblems(base({ targets: ['q_proj', 'c_attn', 'qproj'] }), SMOL);
    expect(msg).toBe(
      "targets 'c_attn', 'qproj' are not a module of a llama model; choose from q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, " +
        'self_attn.q_proj, self_attn.k_proj, self_attn.v_proj, self_attn.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj or all-linear',
    );
    expect(adapterConfigProblems(base({ targets: ['q_proj'] }), GPT2)[0]).toMatch(/^target 'q_proj' is not a module of a gpt2 model; choose from c_attn, c_proj, c_fc, attn.c_attn/);
    expect(adapterConfigProblems(base({ targets: [] }), SMOL)[0]).toMatch(/^no target modules are chosen/);
  });

  it('checks layer indices against the model', () => {
    expect(adapterConfigProblems(base({ layers: [0, 30, -1] }), SMOL)).toEqual(['layer 30, -1 is out of range; this model has layers 0 to 29']);
    expect(adapterConfigProblems(base({ layers: [2, 2] }), SMOL)).toEqual(['layer 2 is listed more than once']);
    expect(adapterConfigProblems(base({ layers: [] }), SMOL)[0]).toMatch(/^the layer list is empty/);
  });

  it('collects every problem into one error', () => {
    const e = problemOf(() => validateAdapterConfig(base({ rank: 0, alpha: -1 }), SMOL));
    expect(e.problems).toHaveLength(2);
    expect(e.message).toMatch(/^the adapter settings have 2 problems:\n- rank must be/);
  });
});

describe('loraScale', () => {
  it('is alpha/r, or alpha/√r with rsLoRA', () => {
    expect(loraScale({ rank: 8, alpha: 16, rslora: false })).toBe(2);
    expect(loraScale({ rank: 16, alpha: 16, rslora: true })).toBe(4);
    expect(loraScale({ rank: 8, alpha: 8, rslora: true })).toBeCloseTo(2.8284271247461903, 15); // √8, to 1e-15
  });
});

describe('parseLayers (--layers)', () => {
  it('expands ranges, sorts and de-duplicates', () => {
    expect(parseLayers('0-3,7', 30)).toEqual([0, 1, 2, 3, 7]);
    expect(parseLayers(' 7, 2-3 ,3 ', 30)).toEqual([2, 3, 7]);
    expect(parseLayers('29', 30)).toEqual([29]);
    expect(parseLayers('all', 30)).toBeNull();
    expect(parseLayers('', 30)).toBeNull();
  });

  it('refuses malformed, backwards and out-of-range specs', () => {
    expect(problemOf(() => parseLayers('0-3,x', 30)).message).toBe("--layers: 'x' is not a layer index or range; write e.g. 0-3,7");
    expect(problemOf(() => parseLayers('5-2', 30)).message).toBe("--layers: the range '5-2' runs backwards; write 2-5");
    expect(problemOf(() => parseLayers('28-30', 30)).message).toBe("--layers: '28-30' goes past the last layer; this model has layers 0 to 29");
    expect(problemOf(() => parseLayers('-1', 30)).message).toMatch(/'-1' is not a layer index/);
  });
});

describe('parseTargets (--targets)', () => {
  it('reads lists and all-linear', () => {
    expect(parseTargets('q_proj,v_proj', 'llama')).toEqual(['q_proj', 'v_proj']);
    expect(parseTargets('q_proj, q_proj ,o_proj', 'llama')).toEqual(['q_proj', 'o_proj']);
    expect(parseTargets('all-linear', 'gpt2')).toBe('all-linear');
    expect(parseTargets('c_proj,mlp.c_fc', 'gpt2')).toEqual(['c_proj', 'mlp.c_fc']);
  });

  it('refuses names the architecture does not have', () => {
    expect(problemOf(() => parseTargets('q_proj', 'gpt2')).message).toMatch(/^--targets: target 'q_proj' is not a module of a gpt2 model; choose from c_attn, c_proj, c_fc/);
    expect(problemOf(() => parseTargets(' , ', 'llama')).message).toMatch(/^--targets is empty/);
  });

  it('offers short names and block paths', () => {
    expect(targetNames('gpt2')).toEqual(['c_attn', 'c_proj', 'c_fc', 'attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']);
  });
});
