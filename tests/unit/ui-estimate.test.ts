import { describe, expect, it } from 'vitest';
import { configFromHf } from '../../src/model/config.ts';
import { adapterSummary, moduleChoices, presetSettings } from '../../src/ui/adapter-settings.ts';
import { defaultModelConfig } from '../../src/ui/default-model.ts';
import { estimateTrainingMemory, layerFloatsPerToken, memoryVerdict } from '../../src/ui/estimate.ts';

// SmolLM2-135M: C=576, L=30, H=9, KV=3, D=64, I=1536, V=49152, bf16, tied embeddings.
const smol = defaultModelConfig();
const MiB = 1024 ** 2;

describe('training memory estimate (hand-computed, exact)', () => {
  it('counts SmolLM2-135M at B=4, T=256 with rank-8 q_proj,v_proj on all 30 layers', () => {
    // per layer per token: 4·576 + 2·9·64 + 2·3·64 + 3·1536 + 9·256 = 2304+1152+384+4608+2304 = 10752
    expect(layerFloatsPerToken(smol, 256)).toBe(10752);
    // adapter floats: per layer q 8·(576+576) + v 8·(576+192) = 15360 (all slots already 64-aligned) → ×30
    const est = estimateTrainingMemory(smol, { batchSize: 4, seqLen: 256 }, 460_800);
    // params: 49152·576 + 30·(2·576 + 576·576 + 2·576·192 + 576·576 + 3·576·1536) + 576 = 134,515,008 (published: 134.5M)
    expect(est.frozenBytes).toBe(134_515_008 * 2);
    // (31·10752 + 2·576 + 2·49152) = 432,768 floats per token · 1024 tokens · 4 bytes
    expect(est.activationBytes).toBe(432_768 * 1024 * 4);
    expect(est.loraBytes).toBe(16 * 460_800);
    expect(est.totalBytes).toBe(269_030_016 + 1_772_617_728 + 7_372_800);
    // logits 4·1024·49152 = 192 MiB beats the embeddings (2·49152·576 = 54 MiB)
    expect(est.largestBuffer).toEqual({ name: 'logits (batch × length × vocabulary)', bytes: 192 * MiB });
  });

  it('uses two MLP activations for GPT-2 (GELU) and f32 weights', () => {
    const gpt2 = configFromHf({ architectures: ['GPT2LMHeadModel'], n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, vocab_size: 50257 });
    // 4·768 + 2·768 + 2·768 + 2·3072 + 12·512 = 18432
    expect(layerFloatsPerToken(gpt2, 512)).toBe(18_432);
    // GPT-2 small has 124,439,808 parameters (tied); float32 by default
    expect(estimateTrainingMemory(gpt2, { batchSize: 1, seqLen: 512 }, 0).frozenBytes).toBe(124_439_808 * 4);
  });
});

describe('memory verdict', () => {
  const est = estimateTrainingMemory(smol, { batchSize: 4, seqLen: 256 }, 460_800);
  it('fits under generous limits', () => {
    expect(memoryVerdict(est, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB })).toEqual({ fits: true, advice: '' });
  });
  it('flags a logits buffer larger than one binding and suggests a smaller batch', () => {
    const v = memoryVerdict(est, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB });
    expect(v.fits).toBe(false);
    expect(v.advice).toContain('0.19 GiB');
    expect(v.advice).toContain('smaller batch size');
  });
  it('flags a total over the budget', () => {
    expect(memoryVerdict(est, null, 1024 * MiB).fits).toBe(false);
  });
});

describe('adapter summary', () => {
  it('groups SmolLM2 modules as attention / MLP', () => {
    expect(moduleChoices(smol).map((m) => `${m.group}:${m.id}`)).toEqual([
      'attention:q_proj', 'attention:k_proj', 'attention:v_proj', 'attention:o_proj', 'mlp:gate_proj', 'mlp:up_proj', 'mlp:down_proj',
    ]);
  });

  it('counts the Balanced preset: rank 8 on q,k,v,o of 30 layers', () => {
    const s = presetSettings('balanced', smol);
    expect(s.adapter).toMatchObject({ rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], layers: null });
    const sum = adapterSummary(smol, s, null);
    // per layer 8·[(576+576) + (576+192) + (576+192) + (576+576)] = 8·3840 = 30720 → ×30
    expect(sum.trainableParams).toBe(921_600);
    // f32 data plus a JSON header of 240 tensor entries (≈120 bytes each)
    expect(sum.adapterFileBytes).toBeGreaterThan(4 * 921_600 + 240 * 80);
    expect(sum.adapterFileBytes).toBeLessThan(4 * 921_600 + 240 * 200);
    expect(sum.problems).toEqual([]);
  });

  it('counts only the chosen layers, and names GPT-2 c_proj by block path', () => {
    const s = presetSettings('quick', smol);
    const two = adapterSummary(smol, { ...s, adapter: { ...s.adapter, layers: [0, 29] } }, null);
    // rank 4: 4·(1152 + 768) = 7680 per layer
    expect(two.trainableParams).toBe(2 * 7680);
    const gpt2 = configFromHf({ architectures: ['GPT2LMHeadModel'], n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, vocab_size: 50257 });
    expect(moduleChoices(gpt2).map((m) => m.id)).toEqual(['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj']);
    expect(presetSettings('quick', gpt2).adapter.targets).toEqual(['c_attn']);
  });
});
