/**
 * The 4-bit base of a full-precision Hugging Face folder: the k256 test model written as
 * safetensors, quantized at load. Where it picks Q4_K, its blocks are byte for byte the ones
 * llama.cpp's quantizer wrote into k256-random-Q4_K_M.gguf for the same weight.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { findGgufTensor, ggufTensorBytes, parseGguf } from '../../src/io/gguf.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { quantizeBase } from '../../src/model/quantize-base.ts';
import { exportConfigJson } from '../../src/onnx/hf-config.ts';
import { spmTokenizerFiles } from '../../src/onnx/tokenizer-json.ts';
import { ggufTensors } from '../../src/train/merge-files.ts';
import { adapterCardMarkdown } from '../../src/lora/card.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { weightPrecision } from '../../src/model/weights.ts';

const DIR = new URL('../../../shared/data/models/quantized/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** k256-random-F32 as a Hugging Face folder (HF names and layout, F32 safetensors). */
function hfFolder() {
  const bytes = read('k256-random-F32.gguf');
  const gguf = loadModelFiles({ 'k256.gguf': bytes }, 'k256.gguf');
  const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(parseGguf(bytes).metadata as Record<string, unknown>, gguf.config.maxPositions);
  return loadModelFiles({
    'model.safetensors': writeSafetensors(ggufTensors(gguf)),
    'config.json': json(exportConfigJson(gguf.config, {}, 'f32')),
    'tokenizer.json': json(tokenizerJson),
    'tokenizer_config.json': json(tokenizerConfig),
  }, 'k256-hf');
}

describe('4-bit base at load', () => {
  it('quantizes an f32 safetensors folder: Q4_K for the linear weights, Q6_K for the embedding and head; llama.cpp\'s blocks where both chose Q4_K', () => {
    const model = hfFolder();
    expect(model.format).toBe('safetensors');
    const { model: q, report } = quantizeBase(model);
    expect(report.types).toEqual({ Q4_K: 14, Q6_K: 2, F32: 5 });
    expect(q.weights.info('model.layers.0.mlp.down_proj.weight').dtype).toBe('q4_k');
    expect(q.weights.info('lm_head.weight').dtype).toBe('q6_k');
    expect(q.weights.info('model.norm.weight').dtype).toBe('f32');
    // Q4_K is 144 bytes per 256 weights against 1024 in f32.
    expect(report.bytesAfter / report.bytesBefore).toBeGreaterThan(0.14);
    expect(report.bytesAfter / report.bytesBefore).toBeLessThan(0.2);
    expect(report.worst!.error).toBeLessThan(0.08);
    const file = read('k256-random-Q4_K_M.gguf');
    const ref = parseGguf(file);
    let same = 0;
    for (const [hf, gg] of [['model.layers.0.mlp.down_proj.weight', 'blk.0.ffn_down.weight'], ['model.layers.0.mlp.up_proj.weight', 'blk.0.ffn_up.weight'], ['model.layers.1.self_attn.o_proj.weight', 'blk.1.attn_output.weight']]) {
      const info = findGgufTensor(ref, gg);
      expect(info.typeName).toBe('Q4_K');
      expect(Array.from(q.weights.bytes(hf))).toEqual(Array.from(ggufTensorBytes(ref, file, info)));
      same++;
    }
    expect(same).toBe(3);
    // What the studio's model step and the exported model card say about the base.
    expect(weightPrecision(model.weights).summary).toBe('f32');
    expect(weightPrecision(q.weights).summary).toBe('quantized: Q4_K, Q6_K');
    const card = adapterCardMarkdown({ baseModel: 'k256', adapter: defaultAdapterConfig('llama'), trainableParams: 10, basePrecision: 'quantized: Q4_K, Q6_K (4-bit base, quantized at load)' });
    expect(card).toContain('| base precision while training | quantized: Q4_K, Q6_K (4-bit base, quantized at load) |');
  });

  it('refuses GPT-2 with a reason', () => {
    const model = hfFolder();
    expect(() => quantizeBase({ ...model, config: { ...model.config, arch: 'gpt2' } })).toThrow(/a 4-bit base is for Llama-family models/);
  });
});
