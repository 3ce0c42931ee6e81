/**
 * The run plan against what the engine really allocates: weight bytes against the uploaded
 * buffers, the dispatch count against a real recorder, and a training run's measured pool peak
 * against the planned peak (within 5%), on tiny models and on stories260K.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/data/dataset.ts';
import { UNIFORM_ALIGN } from '../../src/gpu/recorder.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { uploadWeights, weightBytes } from '../../src/model/gpu-weights.ts';
import { expectedTensors } from '../../src/model/modules.ts';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { stepDispatches } from '../../src/model/plan-dispatches.ts';
import { adapterFloats, ggmlBytes, GGML_Q4_K, planRun, planWeights, weightTypeOf } from '../../src/model/plan-run.ts';
import { trainPlan } from '../../src/train/memory-plan.ts';
import { defaultTrainSettings, type TrainOptions } from '../../src/train/options.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { testGpu } from '../helpers/gpu.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { paddedBatch } from './network-helpers.ts';
import { layoutFor } from './network-lora-helpers.ts';

const sum = (bs: { bytes: number }[]) => bs.reduce((s, b) => s + b.bytes, 0);

describe('planned weights', () => {
  for (const kind of ['llama', 'qwen2', 'mistral', 'gpt2'] as TinyKind[]) {
    for (const dtype of ['F32', 'BF16'] as const) {
      it(`${kind} ${dtype}: the bytes uploadWeights allocates, tensor by tensor`, async () => {
        const m = loadModelFiles(tinyModelFiles(kind, { dtype }), `tiny-${kind}`);
        const uploaded = uploadWeights(await testGpu(), m.config, m.weights);
        expect(weightBytes(m.config, m.weights)).toBe(uploaded.bytes);
        uploaded.destroy();
        expect(sum(planWeights(m.config, { weightType: weightTypeOf(m.weights) }))).toBe(weightBytes(m.config, m.weights));
        // From the config alone (torch_dtype), the same.
        expect(sum(planWeights(m.config))).toBe(weightBytes(m.config, m.weights));
      });
    }
  }

  it('plans weights bigger than a binding as the row windows uploadWeights makes', async () => {
    const gpu = await testGpu();
    const m = loadModelFiles(tinyModelFiles('llama', { dtype: 'BF16' }), 'tiny-llama');
    const uploaded = uploadWeights(gpu, m.config, m.weights, 1000);
    const planned = planWeights(m.config, { weightType: weightTypeOf(m.weights), maxBindingBytes: 1000 });
    expect(sum(planned)).toBe(uploaded.bytes);
    expect(planned.length).toBeGreaterThan(expectedTensors(m.config).size);
    uploaded.destroy();
  });

  it('sizes quantized tensors in ggml blocks: Q4_K is 144 bytes per 256 values of a row', () => {
    expect(ggmlBytes(GGML_Q4_K, [512, 256])).toBe(512 * 144);
    expect(ggmlBytes(GGML_Q4_K, [2, 1024])).toBe(2 * 4 * 144);
    const m = loadModelFiles(tinyModelFiles('llama'), 'tiny-llama');
    // C = 32, I = 48: no row is a whole 256-block; llama.cpp falls back to Q5_0 (22 bytes per 32).
    const q = planWeights(m.config, { base: '4bit' }).find((b) => b.label === 'weights.model.layers.0.mlp.gate_proj.weight')!;
    expect(q.bytes).toBe(48 * 1 * 22);
  });
});

describe('planned dispatches', () => {
  for (const kind of ['llama', 'gpt2'] as TinyKind[]) {
    for (const recompute of [0, 1, 2]) {
      it(`${kind}, recompute ${recompute}: one training step records the planned number of dispatches`, async () => {
        const gpu = await testGpu();
        const model = loadModelFiles(tinyModelFiles(kind), `tiny-${kind}`);
        const layout = layoutFor(model.config, 2, [1]);
        const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 40, training: true, adapter: { layout, scale: 1, dropout: 0 }, recompute, headRows: 64 });
        const { batch } = paddedBatch([40, 33], model.config.vocabSize, 2, 1, 1);
        const rec = gpu.recorder('count');
        net.recordStep(rec, batch, { backward: true, lossScale: 0.1, dropoutSeed: 1 });
        const adapted = new Set(layout.entries.map((e) => e.name));
        const split = { rows: 2 * 40, rank: 2, floats: net.plan.splitFloats, long: gpu.longMatmul };
        expect(split.floats).toBeGreaterThan(0);
        expect(rec.uniformBytesRecorded / UNIFORM_ALIGN).toBe(stepDispatches(model.config, { adapted, training: true, recompute, headChunks: 2, split }));
        rec.destroy();
        net.releaseStaging();
        net.destroy();
      });
    }
  }
});

/** Rows long enough to fill T tokens with each tokenizer. */
const rows: Row[] = Array.from({ length: 12 }, (_, i) => ({
  input: `Once upon a time there was a little dog named ${i} who liked to run in the park with the other dogs every day`,
  output: i % 2 ? 'yes it was a happy dog' : 'no it was a sad dog', line: i + 1,
}));

async function measuredPeak(model: LoadedModel, o: Partial<TrainOptions>): Promise<{ planned: number; measured: number; recompute: number }> {
  const gpu = await testGpu();
  const options: TrainOptions = {
    ...defaultTrainSettings(),
    adapter: { ...defaultAdapterConfig('llama'), rank: 4, alpha: 8, dropout: 0.05, targets: 'all-linear', seed: 1 },
    lr: 1e-3, steps: 2, valSplit: 0, evalEvery: 0, ...o,
  };
  const plan = trainPlan({ config: model.config, weights: model.weights, maxBindingBytes: gpu.adapter.maxStorageBufferBindingSize }, options);
  const base = gpu.pool.liveBytes;
  gpu.pool.resetPeak();
  const trainer = await Trainer.create(gpu, model, rows, options);
  const result = await trainer.run();
  expect(result.steps).toBe(2);
  const measured = gpu.pool.peakBytes - base;
  trainer.destroy();
  return { planned: plan.peakBytes, measured, recompute: plan.recompute };
}

describe('planned peak against a real training run', () => {
  const tiny = loadModelFiles(tinyModelFiles('llama'), 'tiny-llama');
  for (const recompute of ['off', 'on'] as const) {
    it(`tiny Llama, B=2, T=64, all-linear, recompute ${recompute}: the pool's peak is the plan's within 5%`, async () => {
      const r = await measuredPeak(tiny, { batchSize: 2, seqLen: 64, recompute });
      expect(r.recompute).toBe(recompute === 'on' ? 1 : 0);
      expect(Math.abs(r.measured - r.planned) / r.planned).toBeLessThan(0.05);
    });
  }

  it("stories260K, B=2, T=64, all-linear, grad-accum 2: the pool's peak is the plan's within 5%", async () => {
    const bytes = new Uint8Array(readFileSync(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url)));
    const stories = loadModelFiles({ 'stories260K.gguf': bytes }, 'stories260K.gguf');
    const r = await measuredPeak(stories, { batchSize: 2, seqLen: 64, gradAccum: 2 });
    expect(Math.abs(r.measured - r.planned) / r.planned).toBeLessThan(0.05);
  });

  it('auto recomputation: off when the run fits the budget, on (and smaller) when it does not', () => {
    const config = tiny.config;
    const o = { batchSize: 4, seqLen: 64, training: true, adapter: { rank: 4, targets: 'all-linear' as const, layers: null } };
    const roomy = planRun(config, { ...o, budgetBytes: 1e9 });
    expect(roomy.recompute).toBe(0);
    const tight = planRun(config, { ...o, budgetBytes: roomy.peakBytes - 1 });
    expect(tight.recompute).toBeGreaterThan(0);
    expect(tight.peakBytes).toBeLessThan(roomy.peakBytes);
    expect(adapterFloats(config, o.adapter).floats).toBe(layoutFor(config, 4).totalFloats);
  });
});
