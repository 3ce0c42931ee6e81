import { describe, it, expect } from 'vitest';
import { Network } from '../../src/model/network.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { logitsError, paddedBatch, tinyModel } from './network-helpers.ts';
import { layoutFor, randomParams } from './network-lora-helpers.ts';

describe('network memory plan', () => {
  it('plans activations up front, counts them under "activations", and rebuilds for a bigger batch', async () => {
    const gpu = await testGpu();
    const model = tinyModel('qwen2');
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: 3, training: false, adapter: null });
    expect(gpu.pool.byOwner().activations).toBe(net.memory.activationBytes);
    expect(net.memory.weightsBytes).toBeGreaterThan(0);
    const small = net.memory.activationBytes;
    const { batch, rows } = paddedBatch([7, 5], model.config.vocabSize, 2);
    const logits = await net.logits(batch);
    expect(net.memory.activationBytes).toBeGreaterThan(small);
    expect(gpu.pool.byOwner().activations).toBe(net.memory.activationBytes);
    const ref = new ReferenceModel(model.config, model.weights);
    expect(logitsError(logits, rows.map((r) => ref.forward(r)), [7, 5], batch.T, model.config.vocabSize).rel).toBeLessThan(1e-4);
    net.destroy();
    expect(gpu.pool.byOwner().activations ?? 0).toBe(0);
  });

  it('two micro-batches recorded before one submit accumulate the sum of their losses and gradients', async () => {
    const gpu = await testGpu();
    const model = tinyModel('llama');
    const layout = layoutFor(model.config, 2);
    const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 6, training: true, adapter: { layout, scale: 1, dropout: 0 } });
    net.setAdapterParams(Float32Array.from(randomParams(layout, 8, 0.2)));
    const a = paddedBatch([6, 3], model.config.vocabSize, 31, 1, 1).batch;
    const b = paddedBatch([5, 4], model.config.vocabSize, 32, 1, 1).batch;
    const step = async (batches: (typeof a)[]) => {
      const rec = gpu.recorder('step');
      net.recordZeroLoss(rec);
      net.recordZeroGrads(rec);
      for (const batch of batches) net.recordStep(rec, batch, { backward: true, lossScale: 0.1, dropoutSeed: 1 });
      rec.submit();
      rec.destroy();
      await gpu.sync('step');
      return { loss: (await gpu.pool.readF32(net.lossSum))[0], grads: await gpu.pool.readF32(net.loraGrads!) };
    };
    const one = await step([a]);
    const two = await step([b]);
    const both = await step([a, b]);
    expect(both.loss).toBeCloseTo(one.loss + two.loss, 4); // f32 sums of ~10 token losses
    let worst = 0;
    let scale = 0;
    both.grads.forEach((g, i) => {
      worst = Math.max(worst, Math.abs(g - (one.grads[i] + two.grads[i])));
      scale = Math.max(scale, Math.abs(g));
    });
    expect(worst / scale).toBeLessThan(1e-5); // same f32 products, one extra rounding per add
    net.destroy();
  });
});
