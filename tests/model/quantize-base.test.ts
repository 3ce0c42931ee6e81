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
import { Network } from '../../src/model/network.ts';
import { planWeights, weightTypeOf } from '../../src/model/plan-run.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { logitsError, paddedBatch, tinyModel } from './network-helpers.ts';

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

  it("GPT-2: c_attn is quantized whole, its q, k, v row blocks bound apart, and the GPU's logits are the reference's on the quantized weights", async () => {
    const model = tinyModel('gpt2');
    const { model: q, report } = quantizeBase(model);
    // C = 32: rows of one 32-block, Q5_0; the embedding Q8_0.
    expect(q.weights.info('transformer.h.0.attn.c_attn.weight').dtype).toBe('q5_0');
    expect(q.weights.info('transformer.wte.weight').dtype).toBe('q8_0');
    expect(q.weights.info('transformer.wpe.weight').dtype).toBe('f32');
    expect(q.weights.info('transformer.h.0.attn.c_attn.bias').dtype).toBe('f32');
    expect(report.types).toEqual({ F32: 19, Q5_0: 8, Q8_0: 1 }); // 2 layers × 4 linears; the tied embedding; norms, biases, wpe
    const gpu = await testGpu();
    const net = await Network.create(gpu, q, { maxBatch: 2, maxSeq: 7, training: false, adapter: null });
    const k = net.weights.get('transformer.h.0.attn.k_proj.weight');
    expect([k.dtype, k.shape, k.byteOffset]).toEqual(['q5_0', [32, 32], 768]); // 32 rows × 22 bytes = 704, padded
    // What `tsugiki plan --base-4bit` counts is what the upload holds.
    expect(planWeights(model.config, { base: '4bit', weightType: weightTypeOf(model.weights) }).reduce((n, b) => n + b.bytes, 0)).toBe(net.weights.bytes);
    const lengths = [7, 4];
    const { batch, rows } = paddedBatch(lengths, q.config.vocabSize, 7);
    const logits = await net.logits(batch);
    const ref = new ReferenceModel(q.config, q.weights); // reads the dequantized weights
    const err = logitsError(logits, rows.map((r) => ref.forward(r)), lengths, batch.T, q.config.vocabSize);
    expect(err.rel).toBeLessThan(1e-4);
    net.destroy();
  });
});
