import { describe, expect, it } from 'vitest';
import { configFromHf } from '../../src/model/config.ts';
import { planRun } from '../../src/model/plan-run.ts';
import { adapterSummary, moduleChoices, presetSettings } from '../../src/ui/adapter-settings.ts';
import { defaultModelConfig } from '../../src/ui/default-model.ts';
import { estimateTrainingMemory, memoryVerdict } from '../../src/ui/estimate.ts';
import { CURATED_MODELS, downloadBytes } from '../../src/ui/model/curated.ts';

// SmolLM2-135M: C=576, L=30, H=9, KV=3, D=64, I=1536, V=49152, bf16, tied embeddings.
const smol = defaultModelConfig();
const MiB = 1024 ** 2;
const qv = { rank: 8, targets: ['q_proj', 'v_proj'], layers: null };

describe('the studio estimate is the engine plan', () => {
  it('SmolLM2-135M at B=4, T=256, rank-8 q_proj,v_proj: the plan-run peak, grouped', () => {
    const est = estimateTrainingMemory(smol, { batchSize: 4, seqLen: 256, adapter: qv });
    const plan = planRun(smol, { batchSize: 4, seqLen: 256, training: true, adapter: qv, recompute: 'auto' });
    expect(est.totalBytes).toBe(plan.peakBytes);
    // params: 134,515,008 (published 134.5M) in bf16, each tensor 16-byte aligned
    expect(est.frozenBytes).toBeGreaterThanOrEqual(134_515_008 * 2);
    expect(est.frozenBytes).toBeLessThan(134_515_008 * 2 + 16 * 300);
    // adapter floats 460,800: params + grads + AdamW m, v + the trainer's best adapter = 5 copies
    expect(est.loraBytes).toBeGreaterThanOrEqual(5 * 4 * 460_800);
    expect(est.loraBytes).toBeLessThan(5 * 4 * 460_800 + 64 * 1024);
    expect(est.frozenBytes + est.activationBytes + est.loraBytes).toBe(est.totalBytes);
    expect(est.recompute).toBe(0);
    // logits of all 1024 rows (192 MiB) exceed the 32 MiB head chunk: 128 rows of 49,152 at a time (24 MiB)
    expect(plan.activations.headRows).toBe(128);
  });

  it('turns recomputation on when the run does not fit the budget, and the studio shows the smaller plan', () => {
    const qwen = configFromHf({
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
      num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true, torch_dtype: 'bfloat16',
    });
    const shape = { batchSize: 4, seqLen: 256, adapter: qv };
    const est = estimateTrainingMemory(qwen, shape);
    expect(est.recompute).toBe(0);
    const tight = estimateTrainingMemory(qwen, shape, null, est.totalBytes - 1);
    expect(tight.recompute).toBeGreaterThan(0);
    expect(tight.totalBytes).toBeLessThan(est.totalBytes);
    expect(estimateTrainingMemory(qwen, { ...shape, recompute: 'on' }).recompute).toBe(1);
  });

  it('uses f32 weights for GPT-2 (its default dtype)', () => {
    const gpt2 = configFromHf({ architectures: ['GPT2LMHeadModel'], n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, vocab_size: 50257 });
    const est = estimateTrainingMemory(gpt2, { batchSize: 1, seqLen: 512, adapter: null });
    // GPT-2 small has 124,439,808 parameters (tied); f32, c_attn in one buffer of aligned row blocks
    expect(est.frozenBytes).toBeGreaterThanOrEqual(124_439_808 * 4);
    expect(est.frozenBytes).toBeLessThan(124_439_808 * 4 + 16 * 300);
  });
});

describe('memory verdict', () => {
  const est = estimateTrainingMemory(smol, { batchSize: 4, seqLen: 256, adapter: qv });
  it('fits under generous limits', () => {
    expect(memoryVerdict(est, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB })).toEqual({ fits: true, advice: '' });
  });
  it('flags a buffer larger than one binding (weights are split into row windows, the logits chunk is not)', () => {
    const small = { maxStorageBufferBindingSize: 16 * MiB, maxBufferSize: 256 * MiB };
    const v = memoryVerdict(estimateTrainingMemory(smol, { batchSize: 4, seqLen: 256, adapter: qv }, small), small);
    expect(v.fits).toBe(false);
    expect(v.advice).toContain('logits of one chunk of rows need one block of 0.02 GiB');
  });
  it('flags a total over the budget', () => {
    expect(memoryVerdict(est, null, 256 * MiB).fits).toBe(false);
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

describe('curated models: each verdict is the plan at the studio defaults (Balanced, B=4, T=256)', () => {
  const big = { maxStorageBufferBindingSize: 2 * 1024 * MiB, maxBufferSize: 4 * 1024 * MiB };
  for (const m of CURATED_MODELS) {
    it(`${m.id} (${m.base} base)`, () => {
      const s = presetSettings('balanced', m.config);
      const sum = adapterSummary(m.config, s, big, m.base);
      const plan = planRun(m.config, {
        batchSize: 4, seqLen: 256, training: true, base: m.base, recompute: 'auto', maxBindingBytes: 2 * 1024 * MiB,
        adapter: { rank: 8, targets: s.adapter.targets, layers: null },
      });
      expect(sum.memory.totalBytes).toBe(plan.peakBytes);
      // Every curated model fits the 4 GiB a page gets on a GPU with 2 GiB bindings, recomputing where it must.
      expect(sum.verdict).toEqual({ fits: true, advice: '' });
      expect(downloadBytes(m)).toBeGreaterThan(m.base === '4bit' ? 2e9 : 2e8);
    });
  }

  it('Qwen2.5-0.5B at the defaults: 2.36 GiB keeping everything, 1.14 GiB recomputing; fits a 128 MiB binding (its 260 MiB embeddings in row windows)', () => {
    const qwen = CURATED_MODELS.find((m) => m.id === 'Qwen/Qwen2.5-0.5B-Instruct')!;
    const s = presetSettings('balanced', qwen.config);
    const kept = adapterSummary(qwen.config, s, null).memory;
    expect(kept.recompute).toBe(0);
    expect(kept.totalBytes / 1024 ** 3).toBeCloseTo(2.36, 2);
    const recomputed = adapterSummary(qwen.config, { ...s, training: { ...s.training, recompute: true } }, null).memory;
    expect(recomputed.totalBytes / 1024 ** 3).toBeCloseTo(1.14, 2);
    const v = adapterSummary(qwen.config, s, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 1024 * MiB }).verdict;
    expect(v).toEqual({ fits: true, advice: '' });
  });
});
