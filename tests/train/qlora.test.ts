/**
 * LoRA on a quantized base (QLoRA): the frozen weights stay quantized on the GPU and untouched by
 * training, and the whole network's LoRA gradients on the quantized weights equal those on the
 * same weights dequantized to f32.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Row } from '../../src/data/dataset.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { findGgufTensor, ggufTensorBytes, parseGguf } from '../../src/io/gguf.ts';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import type { WeightSource } from '../../src/model/weights.ts';
import { defaultTrainSettings, type TrainOptions } from '../../src/train/options.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { testGpu } from '../helpers/gpu.ts';
import { paddedBatch } from '../model/network-helpers.ts';
import { layoutFor, randomParams } from '../model/network-lora-helpers.ts';

const DIR = new URL('../../../shared/data/models/quantized/', import.meta.url);
const load = (name: string) => {
  const bytes = new Uint8Array(readFileSync(new URL(name, DIR)));
  return { bytes, model: loadModelFiles({ [name]: bytes }, name) };
};

/** The same model with every tensor dequantized to f32 (what a full-precision base would hold). */
function dequantized(model: LoadedModel): LoadedModel {
  const w = model.weights;
  const weights: WeightSource = {
    ...w,
    info: (name) => ({ ...w.info(name), dtype: 'f32' }),
    bytes: (name) => new Uint8Array(w.toF32(name).buffer),
  };
  return { ...model, weights };
}

describe('QLoRA: LoRA training on a quantized GGUF base', () => {
  // B·T = 16 rows in both tests: every product runs on the direct kernel, and the two share their
  // pipelines (fewer to build on SwiftShader).
  it('k256-random-Q4_K_M trains: losses are finite, A and B move, the quantized weights stay as the file holds them', async () => {
    const gpu = await testGpu();
    const { bytes, model } = load('k256-random-Q4_K_M.gguf');
    const file = parseGguf(bytes, 'k256-random-Q4_K_M.gguf');
    expect(model.weights.info('model.layers.1.self_attn.v_proj.weight').dtype).toBe('q6_k');
    const rows: Row[] = Array.from({ length: 8 }, (_, i) => ({ input: `Lily ${i}`, output: i % 2 ? 'happy' : 'sad', line: i + 1 }));
    const options: TrainOptions = {
      ...defaultTrainSettings(),
      adapter: { ...defaultAdapterConfig('llama'), rank: 4, alpha: 8, targets: 'all-linear', seed: 3 },
      lr: 1e-2, steps: 2, batchSize: 2, seqLen: 8, warmup: 0, valSplit: 0, evalEvery: 0, seed: 5,
    };
    const trainer = await Trainer.create(gpu, model, rows, options);
    const v = trainer.net.weights.get('model.layers.1.self_attn.v_proj.weight');
    const fileBlocks = ggufTensorBytes(file, bytes, findGgufTensor(file, 'blk.1.attn_v.weight'));
    // Stored as the file's blocks: 128×256 Q6_K is 128 blocks of 210 bytes, not 128 KiB of f32.
    expect([v.dtype, v.buffer.size]).toEqual(['q6_k', Math.ceil(fileBlocks.length / 16) * 16]);
    const before = new Uint8Array(await gpu.pool.read(v));
    const p0 = await trainer.adapterParams('last');
    const losses: number[] = [];
    const result = await trainer.run({ onStep: (e) => losses.push(e.loss) });
    expect(result.reason).toBe('done');
    expect(losses.length).toBe(2);
    expect(losses.every(Number.isFinite)).toBe(true);
    const after = new Uint8Array(await gpu.pool.read(v));
    expect(after).toEqual(before);
    expect(Array.from(after)).toEqual(Array.from(fileBlocks));
    const p1 = await trainer.adapterParams('last');
    expect(p1.some((x, i) => x !== p0[i])).toBe(true);
    trainer.destroy();
  });

  it('k256-random-Q4_K_M (Q4_K + Q6_K): whole-network LoRA gradients equal those on the dequantized f32 weights', async () => {
    const gpu = await testGpu();
    const { model } = load('k256-random-Q4_K_M.gguf');
    const layout = layoutFor(model.config, 4);
    const params = Float32Array.from(randomParams(layout, 21, 0.05));
    const { batch } = paddedBatch([8, 6], model.config.vocabSize, 9, 1, 2);
    const grads = async (m: LoadedModel) => {
      const net = await Network.create(gpu, m, { maxBatch: 2, maxSeq: 8, training: true, adapter: { layout, scale: 2, dropout: 0 } });
      net.setAdapterParams(params);
      const rec = gpu.recorder('grad');
      net.recordZeroLoss(rec);
      net.recordZeroGrads(rec);
      net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: 0 });
      rec.submit();
      rec.destroy();
      await gpu.sync('qlora gradients');
      const out = { g: await gpu.pool.readF32(net.loraGrads!), loss: (await gpu.pool.readF32(net.lossSum))[0], bytes: net.weights.bytes };
      net.destroy();
      return out;
    };
    const q = await grads(model);
    const f = await grads(dequantized(model));
    let err = 0;
    let scale = 0;
    for (let i = 0; i < f.g.length; i++) {
      err = Math.max(err, Math.abs(q.g[i] - f.g[i]));
      scale = Math.max(scale, Math.abs(f.g[i]));
    }
    if (process.env.TSUGIKI_PRINT) console.log('qlora grad rel err', err / scale, 'loss', q.loss, f.loss, 'bytes', q.bytes, f.bytes);
    // Same kernels and summation order; the weights differ only by the f32 rounding of ggml's
    // d·sc·q − dmin·m (a few elements by an ulp): measured 0 (bitwise equal).
    expect(err / scale).toBeLessThan(1e-5);
    expect(Math.abs(q.loss - f.loss) / f.loss).toBeLessThan(1e-6);
    expect(q.bytes).toBeLessThan(f.bytes / 5); // 4.5–6.6 bits per weight against 32
  });
});
