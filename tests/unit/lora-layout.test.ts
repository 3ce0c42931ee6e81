import { describe, it, expect } from 'vitest';
import { initAdapter } from '../../src/lora/init.ts';
import { planAdapterLayout, readSlot, slotView, writeSlot } from '../../src/lora/layout.ts';
import { adapterFileBytes, adapterModules, blockModules, targetNames, trainableParams, type LoraModelShape } from '../../src/lora/modules.ts';
import { configFromHf } from '../../src/model/config.ts';
import { layerLinears, loraTargets } from '../../src/model/modules.ts';

const SMOL: LoraModelShape = { arch: 'llama', hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, intermediate: 1536 };
const GPT2: LoraModelShape = { arch: 'gpt2', hidden: 768, layers: 12, heads: 12, kvHeads: 12, headDim: 64, intermediate: 3072 };
/** Odd sizes so that nothing lands on a 64-float boundary by luck. */
const ODD: LoraModelShape = { arch: 'llama', hidden: 10, layers: 3, heads: 2, kvHeads: 1, headDim: 5, intermediate: 7 };

describe('adapterModules: names and shapes', () => {
  it('Llama: HF paths, [out ← in] per module', () => {
    const mods = adapterModules(SMOL, { targets: 'all-linear', layers: [3] });
    expect(mods.map((m) => [m.name, m.outFeatures, m.inFeatures])).toEqual([
      ['model.layers.3.self_attn.q_proj', 576, 576], // H·D = 9·64
      ['model.layers.3.self_attn.k_proj', 192, 576], // KV·D = 3·64
      ['model.layers.3.self_attn.v_proj', 192, 576],
      ['model.layers.3.self_attn.o_proj', 576, 576],
      ['model.layers.3.mlp.gate_proj', 1536, 576],
      ['model.layers.3.mlp.up_proj', 1536, 576],
      ['model.layers.3.mlp.down_proj', 576, 1536],
    ]);
    expect(mods.every((m) => !m.fanInFanOut && m.layer === 3)).toBe(true);
  });

  it('GPT-2: c_proj matches both attn.c_proj and mlp.c_proj, as in PEFT', () => {
    const mods = adapterModules(GPT2, { targets: ['c_proj'], layers: [0] });
    expect(mods.map((m) => [m.name, m.outFeatures, m.inFeatures, m.fanInFanOut])).toEqual([
      ['transformer.h.0.attn.c_proj', 768, 768, true],
      ['transformer.h.0.mlp.c_proj', 768, 3072, true],
    ]);
    expect(adapterModules(GPT2, { targets: ['mlp.c_proj'], layers: [0] }).map((m) => m.name)).toEqual(['transformer.h.0.mlp.c_proj']);
    const all = adapterModules(GPT2, { targets: 'all-linear', layers: [11] });
    expect(all.map((m) => [m.name, m.outFeatures, m.inFeatures])).toEqual([
      ['transformer.h.11.attn.c_attn', 2304, 768], // 3C
      ['transformer.h.11.attn.c_proj', 768, 768],
      ['transformer.h.11.mlp.c_fc', 3072, 768], // 4C
      ['transformer.h.11.mlp.c_proj', 768, 3072],
    ]);
  });

  it('orders by layer, whatever order the layers are given in', () => {
    const mods = adapterModules(SMOL, { targets: ['v_proj', 'q_proj'], layers: [7, 0] });
    expect(mods.map((m) => m.name)).toEqual([
      'model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj',
      'model.layers.7.self_attn.q_proj', 'model.layers.7.self_attn.v_proj',
    ]);
  });
});

describe('agrees with the model package', () => {
  // Shape keys of SmolLM2-135M's and gpt2's config.json, normalised by the model loader.
  const smol = configFromHf({
    architectures: ['LlamaForCausalLM'], hidden_size: 576, num_attention_heads: 9, num_key_value_heads: 3, num_hidden_layers: 30,
    intermediate_size: 1536, vocab_size: 49152, max_position_embeddings: 8192, rope_theta: 100000, tie_word_embeddings: true,
  });
  const gpt2 = configFromHf({ architectures: ['GPT2LMHeadModel'], n_embd: 768, n_head: 12, n_layer: 12, vocab_size: 50257, n_positions: 1024 });

  it('same block modules, shapes and target names as layerLinears / loraTargets', () => {
    for (const config of [smol, gpt2]) {
      expect(blockModules(config).map((b) => [b.module, b.outFeatures, b.inFeatures]))
        .toEqual(layerLinears(config).map((m) => [m.path, m.out, m.in]));
      expect(targetNames(config.arch).slice(0, loraTargets(config).length)).toEqual(loraTargets(config));
    }
    expect(trainableParams(adapterModules(smol, { targets: ['q_proj', 'v_proj'], layers: null }), 8)).toBe(460_800);
  });
});

describe('trainable parameter counts (hand-computed)', () => {
  it('SmolLM2-135M, r=8 on q_proj,v_proj: 30·8·(576+576) + 30·8·(576+192) = 460,800', () => {
    const mods = adapterModules(SMOL, { targets: ['q_proj', 'v_proj'], layers: null });
    expect(mods).toHaveLength(60);
    expect(trainableParams(mods, 8)).toBe(460_800);
    // Every matrix is already a multiple of 64 floats, so the flat buffer has no padding.
    expect(planAdapterLayout(mods, 8).totalFloats).toBe(460_800);
  });

  it('SmolLM2-135M, r=8 all-linear: 30·8·(1152+768+768+1152+3·2112) = 2,442,240', () => {
    expect(trainableParams(adapterModules(SMOL, { targets: 'all-linear', layers: null }), 8)).toBe(2_442_240);
  });

  it("GPT-2, r=8 on c_attn: 12·8·(768+2304) = 294,912 (PEFT's print_trainable_parameters for gpt2)", () => {
    expect(trainableParams(adapterModules(GPT2, { targets: ['c_attn'], layers: null }), 8)).toBe(294_912);
  });

  it('GPT-2, r=4 all-linear on layers 0-1: 2·4·(3072+1536+3840+3840) = 98,304', () => {
    expect(trainableParams(adapterModules(GPT2, { targets: 'all-linear', layers: [0, 1] }), 4)).toBe(98_304);
  });

  it('adapter file size: 4 bytes per parameter plus the header', () => {
    const mods = adapterModules(SMOL, { targets: ['q_proj', 'v_proj'], layers: null });
    const bytes = adapterFileBytes(mods, 8);
    expect((bytes - 460_800 * 4) % 8).toBe(0);
    expect(bytes - 460_800 * 4).toBeGreaterThan(60 * 2 * 100); // 120 tensors, ≥100 header bytes each
    expect(bytes - 460_800 * 4).toBeLessThan(120 * 200);
  });
});

describe('planAdapterLayout: one flat buffer, 256-byte aligned', () => {
  it('places A then B per module at multiples of 64 floats (odd shapes, r=3)', () => {
    const layout = planAdapterLayout(adapterModules(ODD, { targets: ['q_proj', 'v_proj'], layers: [1] }), 3);
    // q: A [3,10] = 30 floats at 0; B [10,3] = 30 at 64; v: A [3,10] at 128; B [5,3] = 15 at 192; end 256.
    expect(layout.entries.map((e) => [e.name, e.a, e.b])).toEqual([
      ['model.layers.1.self_attn.q_proj', { offset: 0, shape: [3, 10] }, { offset: 64, shape: [10, 3] }],
      ['model.layers.1.self_attn.v_proj', { offset: 128, shape: [3, 10] }, { offset: 192, shape: [5, 3] }],
    ]);
    expect(layout.totalFloats).toBe(256);
  });

  it('never overlaps and keeps every offset aligned (all-linear, r=5)', () => {
    const layout = planAdapterLayout(adapterModules(ODD, { targets: 'all-linear', layers: null }), 5);
    const slots = layout.entries.flatMap((e) => [e.a, e.b]);
    let end = 0;
    for (const s of slots) {
      expect(s.offset % 64).toBe(0);
      expect(s.offset).toBeGreaterThanOrEqual(end);
      end = s.offset + s.shape[0] * s.shape[1];
    }
    expect(layout.totalFloats % 64).toBe(0);
    expect(layout.totalFloats).toBeGreaterThanOrEqual(end);
    expect(slots).toHaveLength(3 * 7 * 2);
  });

  it("keeps each row block of GPT-2's fused c_attn B aligned; readSlot / writeSlot see B as one [3C, R] matrix", () => {
    const gpt2 = { arch: 'gpt2' as const, hidden: 6, layers: 1, heads: 2, kvHeads: 2, headDim: 3, intermediate: 24 };
    const layout = planAdapterLayout(adapterModules(gpt2, { targets: ['c_attn'], layers: null }), 2);
    const [e] = layout.entries;
    // A [2, 6] at 0; B [18, 2]: blocks [6, 2] = 12 floats each at 64, 128, 192 (padding between them).
    expect(e.a).toEqual({ offset: 0, shape: [2, 6] });
    expect(e.b).toEqual({ offset: 64, shape: [18, 2], blocks: [64, 128, 192].map((offset) => ({ offset, shape: [6, 2] })) });
    expect(layout.totalFloats).toBe(256);
    const params = new Float32Array(layout.totalFloats);
    const B = Float32Array.from({ length: 36 }, (_, i) => i + 1);
    writeSlot(params, e.b, B);
    expect(Array.from(params.subarray(128, 140))).toEqual(Array.from(B.subarray(12, 24)));
    expect(params.subarray(76, 128).every((v) => v === 0)).toBe(true);
    expect(readSlot(params, e.b)).toEqual(B);
    expect(() => slotView(params, e.b)).toThrow(/padded row blocks; read it with readSlot/);
    // r = 32: C·R = 192 floats is a multiple of 64, the blocks are contiguous and B is one view as before.
    const wide = planAdapterLayout(adapterModules(gpt2, { targets: ['c_attn'], layers: null }), 32).entries[0].b;
    expect(wide.blocks!.map((x) => x.offset)).toEqual([wide.offset, wide.offset + 192, wide.offset + 384]);
    expect(slotView(new Float32Array(2048), wide)).toHaveLength(18 * 32);
  });
});

describe('initAdapter', () => {
  const layout = planAdapterLayout(adapterModules(SMOL, { targets: ['q_proj', 'v_proj', 'down_proj'], layers: [0, 1] }), 8);

  it('default: A ~ U(−1/√K, 1/√K) (kaiming_uniform_ a=√5), B exactly 0, padding 0', () => {
    const p = initAdapter(layout, { init: 'default', seed: 42 });
    expect(p.length).toBe(layout.totalFloats);
    for (const e of layout.entries) {
      const A = slotView(p, e.a);
      const bound = 1 / Math.sqrt(e.inFeatures);
      let max = 0, sum = 0, sq = 0;
      for (const v of A) { max = Math.max(max, Math.abs(v)); sum += v; sq += v * v; }
      expect(max).toBeLessThanOrEqual(Math.fround(bound));
      expect(max).toBeGreaterThan(0.99 * bound); // thousands of draws reach the edge
      // U(−b, b): mean 0, variance b²/3. n ≥ 4608 draws: tolerances ≈ 4 standard errors.
      const n = A.length;
      expect(Math.abs(sum / n)).toBeLessThan(4 * bound / Math.sqrt(3 * n));
      expect(sq / n / (bound * bound / 3)).toBeCloseTo(1, 1);
      expect(slotView(p, e.b).every((v) => Object.is(v, 0))).toBe(true);
    }
  });

  it('leaves the alignment padding zero (odd shapes)', () => {
    const odd = planAdapterLayout(adapterModules(ODD, { targets: 'all-linear', layers: null }), 3);
    const p = initAdapter(odd, { init: 'default', seed: 3 });
    const inA = new Uint8Array(p.length);
    for (const e of odd.entries) inA.fill(1, e.a.offset, e.a.offset + e.a.shape[0] * e.a.shape[1]);
    expect(p.every((v, i) => inA[i] === 1 || Object.is(v, 0))).toBe(true);
    expect(p.filter((v, i) => inA[i] === 1 && v !== 0).length).toBe(inA.reduce((a, b) => a + b, 0));
  });

  it('gaussian: A ~ N(0, std 1/r) as PEFT, B exactly 0', () => {
    const p = initAdapter(layout, { init: 'gaussian', seed: 1 });
    for (const e of layout.entries) {
      const A = slotView(p, e.a);
      let sum = 0, sq = 0;
      for (const v of A) { sum += v; sq += v * v; }
      const n = A.length;
      const std = Math.sqrt(sq / n - (sum / n) ** 2);
      expect(Math.abs(sum / n)).toBeLessThan(4 * (1 / 8) / Math.sqrt(n)); // 4 standard errors
      expect(Math.abs(std - 1 / 8) / (1 / 8)).toBeLessThan(0.05); // n ≥ 4608: std's relative error ≈ 1%
      expect(slotView(p, e.b).every((v) => Object.is(v, 0))).toBe(true);
    }
  });

  it('same seed gives the same values; another seed does not; a module does not depend on the others', () => {
    const a = initAdapter(layout, { init: 'default', seed: 7 });
    expect(initAdapter(layout, { init: 'default', seed: 7 })).toEqual(a);
    const other = initAdapter(layout, { init: 'default', seed: 8 });
    const e0 = layout.entries[0];
    expect(slotView(other, e0.a)).not.toEqual(slotView(a, e0.a));
    const alone = planAdapterLayout([layout.entries[3]], 8);
    const p = initAdapter(alone, { init: 'default', seed: 7 });
    expect(slotView(p, alone.entries[0].a)).toEqual(slotView(a, layout.entries[3].a));
  });
});
