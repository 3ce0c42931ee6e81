/**
 * Weights bigger than one storage binding are stored as row windows: with the binding cap lowered
 * so that stories260K-Q8_0's embedding, LM head (Q8_0) and MLP weights (F16) are split, the logits
 * and the whole network's LoRA gradients equal those of the unsplit network.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { planRowWindows } from '../../src/model/gpu-weights.ts';
import { Network } from '../../src/model/network.ts';
import { testGpu } from '../helpers/gpu.ts';
import { relToMax } from '../helpers/numeric.ts';
import { paddedBatch } from './network-helpers.ts';
import { layoutFor, randomParams } from './network-lora-helpers.ts';

const NAME = 'stories260K-Q8_0.gguf';
const model = loadModelFiles({ [NAME]: new Uint8Array(readFileSync(new URL(`../../../shared/data/models/quantized/${NAME}`, import.meta.url))) }, NAME);
const CAP = 8192;

describe('weights in row windows', () => {
  it('plans windows that never exceed the cap and cover every row once', () => {
    expect(planRowWindows(512, 68, CAP)).toEqual([[0, 120], [120, 120], [240, 120], [360, 120], [480, 32]]);
    expect(planRowWindows(151936, 896 * 2, 128 * 2 ** 20).map(([, n]) => n)).toEqual([74898, 74898, 2140]);
    expect(() => planRowWindows(4, 10_000, CAP)).toThrow(/one row of a weight takes 10000 bytes, more than this GPU binds at once \(8192 bytes\)/);
  });

  it('logits and LoRA gradients of stories260K-Q8_0 with its large weights split equal the unsplit network', async () => {
    const gpu = await testGpu();
    const layout = layoutFor(model.config, 4);
    const params = Float32Array.from(randomParams(layout, 3, 0.1));
    const { batch } = paddedBatch([8, 5], model.config.vocabSize, 4, 1, 2);
    const runOnce = async (maxWeightBinding?: number) => {
      const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 8, training: true, adapter: { layout, scale: 2, dropout: 0.1 }, maxWeightBinding });
      const windows = Object.fromEntries(['model.embed_tokens.weight', 'lm_head.weight', 'model.layers.0.mlp.down_proj.weight', 'model.layers.0.mlp.up_proj.weight']
        .map((n) => [n, net.weights.get(n).rowWindows?.length ?? 1]));
      net.setAdapterParams(params);
      const rec = gpu.recorder('windows');
      net.recordZeroLoss(rec);
      net.recordZeroGrads(rec);
      net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: 5 });
      rec.submit();
      rec.destroy();
      await gpu.sync('windows');
      const grads = await gpu.pool.readF32(net.loraGrads!);
      const logits = await net.logits(batch);
      net.destroy();
      return { windows, grads, logits };
    };
    const whole = await runOnce();
    const split = await runOnce(CAP);
    expect(whole.windows).toEqual({ 'model.embed_tokens.weight': 1, 'lm_head.weight': 1, 'model.layers.0.mlp.down_proj.weight': 1, 'model.layers.0.mlp.up_proj.weight': 1 });
    // Q8_0 [512, 64] and [172, 64]: 68-byte rows, 120 per window; F16 down_proj [64, 172]: 344-byte rows, 23 per window.
    expect(split.windows).toEqual({ 'model.embed_tokens.weight': 5, 'lm_head.weight': 5, 'model.layers.0.mlp.down_proj.weight': 3, 'model.layers.0.mlp.up_proj.weight': 2 });
    // Forward columns are the same sums; dY·W adds the windows' partial sums in another order.
    expect(relToMax(split.logits, whole.logits)).toBeLessThan(1e-6);
    expect(relToMax(split.grads, whole.grads)).toBeLessThan(1e-5);
  });
});
