/**
 * The exported model (adapter merged into the weights) and tsugiki's GPU network (adapter applied
 * as LoRA branches) give the same logits for a right-padded batch: what users see in the studio is
 * what transformers.js will generate from.
 */
import { describe, expect, it } from 'vitest';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { loraScale } from '../../src/lora/config.ts';
import { onnxDecoderBytes } from '../../src/onnx/export.ts';
import { testGpu } from '../helpers/gpu.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';
import { paddedBatch } from '../model/network-helpers.ts';
import { loadStories, normRelError, randomAdapter, session, step } from './harness.ts';

const LENGTHS = [7, 4];

async function compare(model: LoadedModel, targets: string[], seed: number): Promise<number> {
  const cfg = model.config;
  const V = cfg.vocabSize;
  const { adapter } = randomAdapter(cfg, targets, seed);
  const { batch, rows } = paddedBatch(LENGTHS, V, seed + 1);
  const gpu = await testGpu();
  const net = await Network.create(gpu, model, {
    maxBatch: batch.B, maxSeq: batch.T, training: false,
    adapter: { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 },
  });
  net.setAdapterParams(adapter.params);
  const gpuLogits = await net.logits(batch);
  net.destroy();
  const s = await session(onnxDecoderBytes(cfg, model.weights, adapter));
  let worst = 0;
  for (let b = 0; b < rows.length; b++) {
    const onnx = (await step(s, cfg, [rows[b]])).logits;
    const fromGpu = gpuLogits.subarray(b * batch.T * V, (b * batch.T + rows[b].length) * V);
    worst = Math.max(worst, normRelError(onnx, fromGpu));
  }
  if (process.env.TSUGIKI_REPORT) console.log(cfg.hfModelType, cfg.layers, 'onnx vs gpu network', worst);
  return worst;
}

describe('ONNX export vs the GPU network', () => {
  it('llama (GQA, llama3 RoPE) with an adapter on q_proj, v_proj, down_proj', async () => {
    const model = loadModelFiles(tinyModelFiles('llama'), 'llama');
    expect(await compare(model, ['q_proj', 'v_proj', 'down_proj'], 21)).toBeLessThan(1e-4); // two f32 paths; measured ≈ 1e-6
  });

  it('gpt2 with an adapter on c_attn and mlp.c_proj', async () => {
    const model = loadModelFiles(tinyModelFiles('gpt2'), 'gpt2');
    expect(await compare(model, ['c_attn', 'mlp.c_proj'], 22)).toBeLessThan(1e-4); // as above
  });

  it('stories260K with an adapter on q_proj, v_proj, down_proj', async () => {
    const { model } = loadStories();
    expect(await compare(model, ['q_proj', 'v_proj', 'down_proj'], 23)).toBeLessThan(1e-4); // as above
  });
});
