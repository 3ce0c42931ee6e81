/**
 * A device that binds at most WebGPU's default 128 MiB, and a model whose tied embedding / LM head
 * is bigger than that (V = 151,936 as Qwen2.5's, C = 224, f32: 136 MB): the weight is stored in
 * row windows, the logits equal the float64 reference, and the LoRA gradients equal those of a
 * device that binds the whole weight at once.
 */
import { describe, expect, it } from 'vitest';
import { createNodeGpu } from '../../src/gpu/node.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { ReferenceModel } from '../reference/model.ts';
import { relToMax } from '../helpers/numeric.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';
import { logitsError, paddedBatch } from './network-helpers.ts';
import { layoutFor, randomParams } from './network-lora-helpers.ts';

const MiB = 2 ** 20;
const model = loadModelFiles(tinyModelFiles('qwen2', { seed: 9, config: { vocab_size: 151_936, hidden_size: 224, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 1 } }), 'wide-vocab-qwen2');

describe('a GPU that binds 128 MiB at most', () => {
  it('runs a model whose 136 MB embedding is over the limit: logits as the reference, LoRA gradients as an unlimited device', async () => {
    expect(model.weights.bytes('model.embed_tokens.weight').byteLength).toBeGreaterThan(128 * MiB);
    const layout = layoutFor(model.config, 4);
    const params = Float32Array.from(randomParams(layout, 5, 0.1));
    const lengths = [5, 3];
    const { batch } = paddedBatch(lengths, 97, 6, 1, 1);
    const runOn = async (maxStorageBufferBindingSize?: number) => {
      const gpu = await createNodeGpu({ maxStorageBufferBindingSize });
      try {
        const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 5, training: true, adapter: { layout, scale: 2, dropout: 0 } });
        net.setAdapterParams(params);
        const windows = net.weights.get('model.embed_tokens.weight').rowWindows?.length ?? 1;
        const rec = gpu.recorder('capped');
        net.recordZeroLoss(rec);
        net.recordZeroGrads(rec);
        net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: 0 });
        rec.submit();
        rec.destroy();
        await gpu.sync('a training step on a capped device');
        const grads = await gpu.pool.readF32(net.loraGrads!);
        net.setAdapterParams(new Float32Array(layout.totalFloats));
        const logits = await net.logits(batch);
        net.destroy();
        return { binding: gpu.device.limits.maxStorageBufferBindingSize, windows, grads, logits };
      } finally {
        gpu.destroy();
      }
    };
    const capped = await runOn(128 * MiB);
    expect(capped.binding).toBe(128 * MiB);
    expect(capped.windows).toBe(2);
    const rows = Array.from({ length: 2 }, (_, b) => Array.from(batch.inputIds.subarray(b * 5, b * 5 + lengths[b])));
    const ref = new ReferenceModel(model.config, model.weights);
    const err = logitsError(capped.logits, rows.map((r) => ref.forward(r)), lengths, 5, model.config.vocabSize);
    expect(err.rel).toBeLessThan(1e-5);
    const whole = await runOn();
    expect(whole.binding).toBeGreaterThan(136e6);
    expect(whole.windows).toBe(1);
    // dY·W adds the two windows' partial sums in another order than one pass: rounding only.
    expect(relToMax(capped.grads, whole.grads)).toBeLessThan(1e-5);
  });
});
