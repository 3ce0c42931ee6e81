import { describe, expect, it } from 'vitest';
import { buildGguf, type FixtureValue } from '../io/gguf-fixture.ts';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { weightTable, type WeightEntry, type WeightSource } from '../../src/model/weights.ts';
import { maxRelError, randomArray } from '../helpers/numeric.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { ReferenceModel, type RefLora } from '../reference/model.ts';

const load = (kind: TinyKind, config?: Record<string, unknown>): LoadedModel => loadModelFiles(tinyModelFiles(kind, { config }), `tiny-${kind}`);
const TOKENS = [5, 17, 42, 3, 88, 60, 9, 33];

/** The weights of `base` with some tensors replaced (f32). */
function withTensors(base: WeightSource, replace: Record<string, { shape: number[]; data: Float32Array }>): WeightSource {
  const entries = new Map<string, WeightEntry>();
  for (const name of base.names()) entries.set(name, { ...base.info(name), read: () => base.bytes(name) });
  for (const [name, { shape, data }] of Object.entries(replace)) {
    entries.set(name, { shape, dtype: 'f32', file: 'test', read: () => new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  }
  return weightTable(base.source, entries);
}

const rows = (logits: Float64Array, V: number, from: number, to: number) => logits.slice(from * V, to * V);

describe('reference forward: properties of causal attention and RoPE', () => {
  for (const kind of ['llama', 'qwen2', 'qwen3', 'gemma3', 'mistral', 'gpt2'] as TinyKind[]) {
    it(`${kind}: a later token never changes earlier logits`, () => {
      const m = load(kind);
      const ref = new ReferenceModel(m.config, m.weights);
      const V = m.config.vocabSize;
      const a = ref.forward(TOKENS);
      const b = ref.forward([...TOKENS.slice(0, 5), 1, 2, 4]);
      expect(rows(b, V, 0, 5)).toEqual(rows(a, V, 0, 5));
      expect(maxRelError(rows(b, V, 5, 6), rows(a, V, 5, 6))).toBeGreaterThan(1e-3);
    });

    // Gemma 3's windows count indices, as HF's masks do: left padding shifts them.
    if (kind !== 'gemma3') it(`${kind}: left padding with HF position ids leaves the real tokens' logits unchanged`, () => {
      const m = load(kind);
      const ref = new ReferenceModel(m.config, m.weights);
      const V = m.config.vocabSize;
      const plain = ref.forward(TOKENS);
      // HF: position_ids = cumsum(attention_mask) - 1, padding positions filled with 1.
      const padded = ref.forward([1, 1, 1, ...TOKENS], { attentionMask: [0, 0, 0, ...TOKENS.map(() => 1)], positionIds: [1, 1, 1, ...TOKENS.map((_, i) => i)] });
      expect(maxRelError(rows(padded, V, 3, 3 + TOKENS.length), plain)).toBeLessThan(1e-12); // float64, same sums
    });
  }

  for (const kind of ['llama', 'qwen2', 'qwen3', 'gemma3'] as TinyKind[]) {
    it(`${kind}: RoPE is relative — shifting every position by 7 changes nothing`, () => {
      const m = load(kind);
      const ref = new ReferenceModel(m.config, m.weights);
      const a = ref.forward(TOKENS);
      const b = ref.forward(TOKENS, { positionIds: TOKENS.map((_, i) => i + 7) });
      expect(maxRelError(b, a)).toBeLessThan(1e-10); // float64 cos/sin of different angles
      const scrambled = ref.forward(TOKENS, { positionIds: [0, 2, 1, 3, 4, 5, 6, 7] });
      expect(maxRelError(scrambled, a)).toBeGreaterThan(1e-3);
    });
  }

  it('mistral sliding window W=2 over 2 layers: position 4 sees tokens 2..4 only', () => {
    const m = load('mistral', { sliding_window: 2 });
    expect(m.config.slidingWindow).toBe(2);
    const ref = new ReferenceModel(m.config, m.weights);
    const V = m.config.vocabSize;
    const a = ref.forward(TOKENS.slice(0, 5));
    const b = ref.forward([70, 71, ...TOKENS.slice(2, 5)]);
    expect(rows(b, V, 4, 5)).toEqual(rows(a, V, 4, 5));
    expect(maxRelError(rows(b, V, 2, 3), rows(a, V, 2, 3))).toBeGreaterThan(1e-3);
    const full = new ReferenceModel(load('mistral').config, m.weights);
    expect(maxRelError(rows(full.forward([70, 71, ...TOKENS.slice(2, 5)]), V, 4, 5), rows(full.forward(TOKENS.slice(0, 5)), V, 4, 5))).toBeGreaterThan(1e-3);
  });

  it('gemma3: sliding layers of W=2 over 3 layers: position 6 sees tokens 3..6 only', () => {
    const m = load('gemma3', { sliding_window: 2, layer_types: ['sliding_attention', 'sliding_attention', 'sliding_attention'] });
    expect(m.config.layerWindows).toEqual([2, 2, 2]);
    const ref = new ReferenceModel(m.config, m.weights);
    const V = m.config.vocabSize;
    const a = ref.forward(TOKENS.slice(0, 7));
    expect(rows(ref.forward([70, 71, 72, ...TOKENS.slice(3, 7)]), V, 6, 7)).toEqual(rows(a, V, 6, 7));
    expect(maxRelError(rows(ref.forward([...TOKENS.slice(0, 3), 73, ...TOKENS.slice(4, 7)]), V, 6, 7), rows(a, V, 6, 7))).toBeGreaterThan(1e-3);
    // The tiny model's layer 1 attends to everything: then token 0 reaches position 6.
    const mixed = new ReferenceModel(load('gemma3', { sliding_window: 2 }).config, m.weights);
    expect(maxRelError(rows(mixed.forward([70, ...TOKENS.slice(1, 7)]), V, 6, 7), rows(mixed.forward(TOKENS.slice(0, 7)), V, 6, 7))).toBeGreaterThan(1e-3);
  });
});

describe('reference forward: equivalent networks give equal logits', () => {
  it('GQA (H=4, KV=2) equals multi-head attention with k/v heads repeated as HF repeat_kv does', () => {
    const m = load('llama');
    const { kvHeads: KV, heads: H, headDim: D, hidden: C } = m.config;
    const replace: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let l = 0; l < m.config.layers; l++) {
      for (const p of ['k_proj', 'v_proj']) {
        const name = `model.layers.${l}.self_attn.${p}.weight`;
        const w = m.weights.toF32(name);
        const big = new Float32Array(H * D * C);
        for (let h = 0; h < H; h++) big.set(w.subarray(Math.floor(h / (H / KV)) * D * C, (Math.floor(h / (H / KV)) + 1) * D * C), h * D * C);
        replace[name] = { shape: [H * D, C], data: big };
      }
    }
    const mha: ModelConfig = { ...m.config, kvHeads: H };
    const a = new ReferenceModel(m.config, m.weights).forward(TOKENS);
    const b = new ReferenceModel(mha, withTensors(m.weights, replace)).forward(TOKENS);
    expect(maxRelError(b, a)).toBeLessThan(1e-12);
  });

  it('tied embeddings equal an untied lm_head that copies them', () => {
    const m = load('qwen2');
    const a = new ReferenceModel(m.config, m.weights).forward(TOKENS);
    const head = { shape: [m.config.vocabSize, m.config.hidden], data: m.weights.toF32('model.embed_tokens.weight') };
    const b = new ReferenceModel({ ...m.config, tieWordEmbeddings: false }, withTensors(m.weights, { 'lm_head.weight': head })).forward(TOKENS);
    expect(b).toEqual(a);
  });

  for (const [kind, modules] of [['llama', ['model.layers.0.self_attn.q_proj', 'model.layers.1.mlp.down_proj', 'lm_head']], ['gpt2', ['transformer.h.0.attn.c_attn', 'transformer.h.1.mlp.c_proj']]] as const) {
    it(`${kind}: LoRA hooks (y += s·x Aᵀ Bᵀ) equal the merged weights W + s·B·A`, () => {
      const m = load(kind);
      const r = 3, scale = 16 / 3;
      const lora: Record<string, RefLora> = {};
      const viaMergeRef = new ReferenceModel(m.config, m.weights);
      modules.forEach((module, k) => {
        const [out, inp] = m.weights.info(`${module}.weight`).shape;
        const A = randomArray(r * inp, 10 + k, 0.3), B = randomArray(out * r, 20 + k, 0.3);
        lora[module] = { A, B, rank: r, scale };
        const W = m.weights.toF32(`${module}.weight`);
        const Wm = new Float64Array(out * inp);
        for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) {
          let s = 0;
          for (let j = 0; j < r; j++) s += B[o * r + j] * A[j * inp + i];
          Wm[o * inp + i] = W[o * inp + i] + scale * s;
        }
        viaMergeRef.setWeight(`${module}.weight`, Wm);
      });
      const ref = new ReferenceModel(m.config, m.weights);
      const hooked = ref.forward(TOKENS, { lora });
      const viaMerge = viaMergeRef.forward(TOKENS);
      expect(maxRelError(hooked, viaMerge)).toBeLessThan(1e-10); // float64 both ways, sums in another order
      expect(maxRelError(hooked, ref.forward(TOKENS))).toBeGreaterThan(1e-2);
    });
  }
});

/** converter permute (convert_hf_to_gguf.py): reshape(n_head, 2, D/2, in).swapaxes(1, 2). */
function converterPermute(w: Float32Array, rowsN: number, cols: number, nHead: number): Float32Array {
  const D = rowsN / nHead, out = new Float32Array(w.length);
  for (let h = 0; h < nHead; h++) for (let a = 0; a < 2; a++) for (let b = 0; b < D / 2; b++) {
    out.set(w.subarray((h * D + a * (D / 2) + b) * cols, (h * D + a * (D / 2) + b + 1) * cols), (h * D + 2 * b + a) * cols);
  }
  return out;
}

describe('a GGUF written like llama.cpp writes it', () => {
  it('loads to the same logits as the Hugging Face checkpoint it came from', () => {
    const hf = load('llama', { rope_scaling: null });
    const c = hf.config;
    const GGUF_NAMES: Record<string, string> = { q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output', gate_proj: 'ffn_gate',
      up_proj: 'ffn_up', down_proj: 'ffn_down', input_layernorm: 'attn_norm', post_attention_layernorm: 'ffn_norm' };
    const tensors = hf.weights.names().map((name) => {
      const shape = hf.weights.info(name).shape;
      let data = hf.weights.toF32(name);
      if (name.endsWith('q_proj.weight')) data = converterPermute(data, shape[0], shape[1], c.heads);
      if (name.endsWith('k_proj.weight')) data = converterPermute(data, shape[0], shape[1], c.kvHeads);
      const m = /^model\.layers\.(\d+)\.(?:self_attn\.|mlp\.)?(\w+)\.weight$/.exec(name);
      const gg = m ? `blk.${m[1]}.${GGUF_NAMES[m[2]]}.weight` : { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' }[name]!;
      return { name: gg, dims: [...shape].reverse(), ggmlType: 0, data: new Uint8Array(data.buffer) };
    });
    const u32 = (value: number): FixtureValue => ({ type: 'u32', value });
    const tokens: FixtureValue = { type: 'array', elem: 'string', values: Array.from({ length: c.vocabSize }, (_, i) => ({ type: 'string', value: i < 3 ? ['<unk>', '<s>', '</s>'][i] : `t${i}` })) };
    const bytes = buildGguf({
      metadata: [
        ['general.architecture', { type: 'string', value: 'llama' }],
        ['llama.context_length', u32(128)], ['llama.embedding_length', u32(c.hidden)], ['llama.block_count', u32(c.layers)],
        ['llama.feed_forward_length', u32(c.intermediate)], ['llama.attention.head_count', u32(c.heads)], ['llama.attention.head_count_kv', u32(c.kvHeads)],
        ['llama.rope.dimension_count', u32(c.headDim)], ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
        ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
        ['tokenizer.ggml.model', { type: 'string', value: 'llama' }], ['tokenizer.ggml.tokens', tokens],
        ['tokenizer.ggml.bos_token_id', u32(1)], ['tokenizer.ggml.eos_token_id', u32(2)],
      ],
      tensors,
    });
    const gg = loadModelFiles({ 'tiny.gguf': bytes }, 'tiny.gguf');
    expect(gg.config).toMatchObject({ heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, tieWordEmbeddings: false });
    const a = new ReferenceModel(c, hf.weights).forward(TOKENS);
    const b = new ReferenceModel(gg.config, gg.weights).forward(TOKENS);
    expect(maxRelError(b, a)).toBeLessThan(1e-6); // eps stored as f32 in GGUF
  });
});
