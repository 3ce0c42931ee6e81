import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32 } from '../../src/io/halfs.ts';
import { parseSafetensors, tensorToF32 } from '../../src/io/safetensors.ts';
import { expectedTensors } from '../../src/model/config.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { tinyModelFiles, writeTinyModel, type TinyKind } from '../helpers/tiny-models.ts';

const KINDS: TinyKind[] = ['llama', 'mistral', 'qwen2', 'gpt2'];

describe('HF folders of every architecture', () => {
  for (const kind of KINDS) {
    it(`${kind}: every tensor the config implies is there with its HF shape, values as stored`, () => {
      const files = tinyModelFiles(kind);
      const m = loadModelFiles(files, `tiny-${kind}`);
      expect(m.format).toBe('safetensors');
      expect(m.config.hfModelType).toBe(kind);
      const expected = expectedTensors(m.config);
      expect(new Set(m.weights.names())).toEqual(new Set(expected.keys()));
      const st = parseSafetensors(files['model.safetensors']);
      for (const t of st.tensors) {
        if (kind === 'gpt2' && /\.(c_attn|c_proj|c_fc)\.weight$/.test(t.name)) continue;
        expect(m.weights.toF32(t.name), t.name).toEqual(tensorToF32(st, files['model.safetensors'], t.name));
        expect(m.weights.info(t.name)).toEqual({ shape: t.shape, dtype: 'f32', file: 'model.safetensors' });
      }
    });
  }

  it('qwen2 has q/k/v biases and tied embeddings; llama carries the llama3 rope scaling', () => {
    const q = loadModelFiles(tinyModelFiles('qwen2'), 'q');
    expect(q.weights.info('model.layers.1.self_attn.k_proj.bias').shape).toEqual([12]);
    expect(q.weights.has('lm_head.weight')).toBe(false);
    expect(q.config.tieWordEmbeddings).toBe(true);
    const l = loadModelFiles(tinyModelFiles('llama'), 'l');
    expect(l.config.rope?.scaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 });
    expect(l.tokenizer.encode('Hi!')).toEqual([41, 74, 2]);
  });
});

describe('GPT-2 Conv1D weights', () => {
  it('are transposed from [in, out] to [out, in]; c_attn stays fused [3C, C]', () => {
    const files = tinyModelFiles('gpt2');
    const m = loadModelFiles(files, 'gpt2');
    const st = parseSafetensors(files['model.safetensors']);
    const raw = tensorToF32(st, files['model.safetensors'], 'transformer.h.1.attn.c_attn.weight'); // [C, 3C]
    const w = m.weights.toF32('transformer.h.1.attn.c_attn.weight');
    expect(m.weights.info('transformer.h.1.attn.c_attn.weight').shape).toEqual([96, 32]);
    for (const [o, i] of [[0, 0], [95, 31], [40, 3], [7, 20]]) expect(w[o * 32 + i]).toBe(raw[i * 96 + o]);
    const fc = m.weights.toF32('transformer.h.0.mlp.c_fc.weight'); // HF [128, 32]
    const fcRaw = tensorToF32(st, files['model.safetensors'], 'transformer.h.0.mlp.c_fc.weight'); // [32, 128]
    expect(fc[100 * 32 + 5]).toBe(fcRaw[5 * 128 + 100]);
  });

  it('keys without the transformer. prefix load under the prefixed names, same values', () => {
    const a = loadModelFiles(tinyModelFiles('gpt2'), 'a');
    const b = loadModelFiles(tinyModelFiles('gpt2', { gpt2WithoutPrefix: true }), 'b');
    expect(b.weights.names().sort()).toEqual(a.weights.names().sort());
    for (const n of a.weights.names()) expect(b.weights.toF32(n), n).toEqual(a.weights.toF32(n));
  });
});

describe('precision and sharding', () => {
  it('f16 and bf16 checkpoints keep their dtype in bytes() and widen exactly in toF32()', () => {
    for (const [dtype, widen] of [['F16', f16ToF32], ['BF16', bf16ToF32]] as const) {
      const m = loadModelFiles(tinyModelFiles('llama', { dtype }), 'half');
      const name = 'model.layers.0.mlp.up_proj.weight';
      const info = m.weights.info(name);
      expect(info.dtype).toBe(dtype.toLowerCase());
      const raw = m.weights.bytes(name);
      expect(raw.length).toBe(48 * 32 * 2);
      const u16 = new Uint16Array(raw.slice().buffer);
      expect(m.weights.toF32(name)).toEqual(widen(u16));
      expect(m.config.torchDtype).toBe(dtype === 'F16' ? 'float16' : 'bfloat16');
    }
    const g = loadModelFiles(tinyModelFiles('gpt2', { dtype: 'BF16' }), 'g');
    expect(g.weights.bytes('transformer.h.0.attn.c_proj.weight').length).toBe(32 * 32 * 2);
  });

  it('a checkpoint in two shards with an index loads the same tensors as one file', () => {
    const one = loadModelFiles(tinyModelFiles('mistral'), 'one');
    const files = tinyModelFiles('mistral', { shards: 2 });
    expect(Object.keys(files).filter((n) => n.endsWith('.safetensors')).length).toBe(2);
    const two = loadModelFiles(files, 'two');
    for (const n of one.weights.names()) expect(two.weights.toF32(n), n).toEqual(one.weights.toF32(n));
    expect(two.weights.info('lm_head.weight').file).toBe('model-00002-of-00002.safetensors');
  });

  it('loadModelFromPath reads a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-tiny-'));
    try {
      writeTinyModel(dir, 'qwen2', { shards: 2 });
      const m = loadModelFromPath(dir);
      expect(m.config.hidden).toBe(24);
      expect(m.weights.toF32('model.norm.weight')).toEqual(loadModelFiles(tinyModelFiles('qwen2'), 'x').weights.toF32('model.norm.weight'));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('clear errors', () => {
  const base = () => tinyModelFiles('llama');
  const without = (files: Record<string, Uint8Array>, name: string) => Object.fromEntries(Object.entries(files).filter(([k]) => k !== name));

  it('missing config.json, tokenizer.json, weights or shard', () => {
    expect(() => loadModelFiles(without(base(), 'config.json'), 'my-model')).toThrow(/my-model: has no config\.json/);
    expect(() => loadModelFiles(without(base(), 'tokenizer.json'), 'my-model')).toThrow(/my-model: has no tokenizer\.json/);
    expect(() => loadModelFiles(without(base(), 'model.safetensors'), 'my-model')).toThrow(/my-model: has no model\.safetensors/);
    const sharded = tinyModelFiles('llama', { shards: 2 });
    expect(() => loadModelFiles(without(sharded, 'model-00002-of-00002.safetensors'), 'm')).toThrow(/lists the shard 'model-00002-of-00002\.safetensors' but the folder has no such file/);
  });

  it('a tensor missing for the config names the tensor', () => {
    const files = { ...base(), 'config.json': tinyModelFiles('llama', { config: { num_hidden_layers: 3 } })['config.json'] };
    expect(() => loadModelFiles(files, 'm')).toThrow(/tensor 'model\.layers\.2\.input_layernorm\.weight' is missing/);
    const untied = { ...tinyModelFiles('qwen2'), 'config.json': tinyModelFiles('qwen2', { config: { tie_word_embeddings: false } })['config.json'] };
    expect(() => loadModelFiles(untied, 'm')).toThrow(/'lm_head\.weight' is missing .*not tied/);
  });

  it('a shape that disagrees with the config names the tensor, the file and both shapes', () => {
    const files = { ...base(), 'config.json': tinyModelFiles('llama', { config: { intermediate_size: 40 } })['config.json'] };
    expect(() => loadModelFiles(files, 'm')).toThrow(/m\/model\.safetensors: tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[48, 32\] but the config implies \[40, 32\]/);
  });

  it('an unsupported architecture is refused by name', () => {
    const files = { ...base(), 'config.json': new TextEncoder().encode(JSON.stringify({ architectures: ['PhiForCausalLM'], model_type: 'phi' })) };
    expect(() => loadModelFiles(files, 'm')).toThrow(/PhiForCausalLM is not supported; tsugiki loads LlamaForCausalLM/);
  });
});
