import { describe, it, expect } from 'vitest';
import { Network } from '../../src/model/network.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { logitsError, paddedBatch, tinyModel } from './network-helpers.ts';
import type { TinyKind } from '../helpers/tiny-models.ts';
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
