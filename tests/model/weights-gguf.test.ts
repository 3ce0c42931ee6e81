import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGguf, ggufTensorToF32, findGgufTensor } from '../../src/io/gguf.ts';
import { configFromGguf, expectedTensors } from '../../src/model/config.ts';
import { ggufToHfName, unpermuteRows, weightsFromGguf } from '../../src/model/gguf-llama.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { randomArray } from '../helpers/numeric.ts';

const DATA = new URL('../../../shared/data/models/', import.meta.url);
const bytes = new Uint8Array(readFileSync(new URL('stories260K.gguf', DATA)));

/**
 * llama.cpp convert_hf_to_gguf.py `LlamaModel.permute`, written as numpy does it:
 * w.reshape(n_head, 2, D/2, in).swapaxes(1, 2).reshape(w.shape). Element [h, a, b] of the
 * reshaped array moves to [h, b, a] of a [n_head, D/2, 2] array.
 */
function converterPermute(w: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  const D = rows / nHead;
  const half = D / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHead; h++)
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < half; b++) {
        const src = h * D + a * half + b;
        const dst = h * D + b * 2 + a;
        out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
  return out;
}

const asBytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const unpermuteF32 = (w: Float32Array, rows: number, cols: number, nHead: number) =>
  new Float32Array(unpermuteRows(asBytes(w), rows, cols * 4, rows / nHead).slice().buffer);

describe('GGUF q/k un-permute', () => {
  it('is the exact inverse of the converter permute, both ways, for n_head and n_head_kv shapes', () => {
    for (const [rows, cols, nHead, seed] of [[64, 64, 8, 1], [32, 64, 4, 2], [48, 7, 3, 3], [12, 5, 1, 4]]) {
      const w = Float32Array.from(randomArray(rows * cols, seed));
      expect(unpermuteF32(converterPermute(w, rows, cols, nHead), rows, cols, nHead)).toEqual(w);
      expect(converterPermute(unpermuteF32(w, rows, cols, nHead), rows, cols, nHead)).toEqual(w);
      // and it is not the identity (so the test can fail)
      expect(unpermuteF32(w, rows, cols, nHead)).not.toEqual(w);
    }
  });
});

describe('weightsFromGguf on stories260K.gguf', () => {
  const file = parseGguf(bytes, 'stories260K.gguf');
  const config = configFromGguf(file);
  const weights = weightsFromGguf(file, bytes, config);

  it('maps every tensor to exactly the HF names the config implies, with HF shapes', () => {
    expect(file.tensors.length).toBe(48);
    const expected = expectedTensors(config);
    expect(new Set(weights.names())).toEqual(new Set(expected.keys()));
    for (const [name, shape] of expected) expect(weights.info(name).shape, name).toEqual(shape);
    expect(weights.info('model.layers.0.self_attn.k_proj.weight')).toMatchObject({ shape: [32, 64], dtype: 'f32' });
    expect(weights.info('model.layers.4.mlp.down_proj.weight').shape).toEqual([64, 172]);
    expect(ggufToHfName('blk.3.attn_output.weight')).toBe('model.layers.3.self_attn.o_proj.weight');
    expect(ggufToHfName('blk.3.ffn_norm.weight')).toBe('model.layers.3.post_attention_layernorm.weight');
    expect(ggufToHfName('rope_freqs.weight')).toBeNull();
    // gguf-py's names of the newer families: q/k norms (qwen3, gemma3) and Gemma's four norms.
    expect(ggufToHfName('blk.2.attn_q_norm.weight', 'qwen3')).toBe('model.layers.2.self_attn.q_norm.weight');
    expect(ggufToHfName('blk.2.ffn_norm.weight', 'qwen3')).toBe('model.layers.2.post_attention_layernorm.weight');
    expect(ggufToHfName('blk.2.attn_q_norm.weight')).toBeNull(); // llama has none
    expect(ggufToHfName('blk.2.post_attention_norm.weight', 'gemma3')).toBe('model.layers.2.post_attention_layernorm.weight');
    expect(ggufToHfName('blk.2.ffn_norm.weight', 'gemma3')).toBe('model.layers.2.pre_feedforward_layernorm.weight');
    expect(ggufToHfName('blk.2.post_ffw_norm.weight', 'gemma3')).toBe('model.layers.2.post_feedforward_layernorm.weight');
    expect(ggufToHfName('blk.2.attn_k_norm.weight', 'gemma3')).toBe('model.layers.2.self_attn.k_norm.weight');
  });

  it('q_proj and k_proj re-permuted by the converter formula give back the file bytes; others are untouched', () => {
    for (let l = 0; l < config.layers; l++) {
      const q = weights.toF32(`model.layers.${l}.self_attn.q_proj.weight`);
      const k = weights.toF32(`model.layers.${l}.self_attn.k_proj.weight`);
      expect(converterPermute(q, 64, 64, config.heads)).toEqual(ggufTensorToF32(file, bytes, findGgufTensor(file, `blk.${l}.attn_q.weight`)));
      expect(converterPermute(k, 32, 64, config.kvHeads)).toEqual(ggufTensorToF32(file, bytes, findGgufTensor(file, `blk.${l}.attn_k.weight`)));
      expect(weights.toF32(`model.layers.${l}.self_attn.v_proj.weight`)).toEqual(ggufTensorToF32(file, bytes, findGgufTensor(file, `blk.${l}.attn_v.weight`)));
    }
    expect(weights.toF32('lm_head.weight')).toEqual(ggufTensorToF32(file, bytes, findGgufTensor(file, 'output.weight')));
  });
});

describe('loading GGUF files', () => {
  it('loadModelFiles and loadModelFromPath give the config, weights and the SentencePiece tokenizer', () => {
    const m = loadModelFiles({ 'stories260K.gguf': bytes }, 'stories260K.gguf');
    expect(m.format).toBe('gguf');
    expect(m.config.layers).toBe(5);
    expect(m.tokenizer.vocabSize).toBe(512);
    expect(m.tokenizer.decode(m.tokenizer.encode('Once upon a time', { addBos: false }))).toBe('Once upon a time');
    const fromPath = loadModelFromPath(new URL('stories260K.gguf', DATA).pathname);
    expect(fromPath.weights.toF32('model.norm.weight')).toEqual(m.weights.toF32('model.norm.weight'));
  });

  it('the obsolete GGUF v1 container is refused with a message naming the version', () => {
    const v1 = new Uint8Array(readFileSync(new URL('stories260K-gguf-v1-legacy.gguf', DATA)));
    expect(() => loadModelFiles({ 'old.gguf': v1 }, 'old.gguf')).toThrow(/old\.gguf: .*version 1/i);
  });

  it('a missing path says what to give', () => {
    expect(() => loadModelFromPath('/nonexistent/model')).toThrow(/no such file or folder; give a \.gguf file or a folder/);
  });
});
