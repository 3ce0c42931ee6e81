import { describe, it, expect } from 'vitest';
import { Network } from '../../src/model/network.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { logitsError, paddedBatch, tinyModel } from './network-helpers.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import type { SafeDtype } from '../../src/io/safetensors.ts';

const LENGTHS = [7, 4];
const cases: [TinyKind, SafeDtype][] = [
  ['llama', 'F32'], ['llama', 'BF16'], ['mistral', 'F32'], ['mistral', 'F16'],
  ['qwen2', 'F32'], ['qwen2', 'BF16'], ['qwen3', 'F32'], ['qwen3', 'BF16'], ['gemma3', 'F32'], ['gemma3', 'BF16'],
  ['gpt2', 'F32'], ['gpt2', 'F16'],
];

describe('GPU network forward vs the float64 reference', () => {
  for (const [kind, dtype] of cases) {
    it(`${kind} ${dtype}: logits of a padded batch (B=2, lengths ${LENGTHS.join(' and ')})`, async () => {
      const gpu = await testGpu();
      const model = tinyModel(kind, dtype);
      const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 7, training: false, adapter: null });
      const { batch, rows } = paddedBatch(LENGTHS, model.config.vocabSize, 7);
      const logits = await net.logits(batch);
      const ref = new ReferenceModel(model.config, model.weights);
      const want = rows.map((r) => ref.forward(r));
      const err = logitsError(logits, want, LENGTHS, batch.T, model.config.vocabSize);
      // Same weights on both sides (the reference widens f16/bf16 exactly as the shader does);
      // f32 accumulation over K ≤ 64 with a handful of layers: ~1e-6 relative to the largest logit.
      if (process.env.TSUGIKI_REPORT) console.log(kind, dtype, err);
      expect(err.rel).toBeLessThan(1e-4);
      net.destroy();
    });
  }
});

describe("GPT-2's fused c_attn as aligned row blocks", () => {
  it('C = 24, f16: q, k, v are views 1280 bytes apart (1152 bytes each, padded), and the logits match the reference', async () => {
    const gpu = await testGpu();
    const files = tinyModelFiles('gpt2', { dtype: 'F16', config: { n_embd: 24 } });
    const model = loadModelFiles(files, 'tiny-gpt2-c24');
    const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 7, training: false, adapter: null });
    const view = (name: string) => net.weights.get(`transformer.h.1.attn.${name}`);
    const [q, k, v] = ['q_proj', 'k_proj', 'v_proj'].map((p) => view(`${p}.weight`));
    expect([q.buffer === k.buffer && k.buffer === v.buffer, q.shape, q.byteOffset, k.byteOffset, v.byteOffset]).toEqual([true, [24, 24], 0, 1280, 2560]);
    expect(['q_proj', 'k_proj', 'v_proj'].map((p) => view(`${p}.bias`).byteOffset)).toEqual([0, 256, 512]); // 96 bytes each
    const { batch, rows } = paddedBatch(LENGTHS, model.config.vocabSize, 7);
    const logits = await net.logits(batch);
    const ref = new ReferenceModel(model.config, model.weights);
    const err = logitsError(logits, rows.map((r) => ref.forward(r)), LENGTHS, batch.T, model.config.vocabSize);
    if (process.env.TSUGIKI_REPORT) console.log('gpt2 C=24 F16', err);
    expect(err.rel).toBeLessThan(1e-4);
    net.destroy();
  });
});
