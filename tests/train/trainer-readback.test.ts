import { countSubmitsAndStaging } from '../helpers/gpu-counters.ts';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/data/dataset.ts';
import { READBACK_RING_SLOTS } from '../../src/gpu/readback-ring.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { BatchStream } from '../../src/train/data.ts';
import { defaultTrainSettings, type TrainOptions } from '../../src/train/options.ts';
import { lrAt } from '../../src/train/schedule.ts';
import { dropoutSeed, Trainer } from '../../src/train/trainer.ts';
import { crossEntropyRef } from '../reference/cross-entropy.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';

const model = loadModelFiles(tinyModelFiles('llama'), 'tiny-llama');
const rows: Row[] = Array.from({ length: 10 }, (_, i) => ({ input: `item ${i}`, output: i % 3 === 0 ? 'red' : 'blue', line: i + 1 }));
const options: TrainOptions = {
  ...defaultTrainSettings(),
  adapter: { ...defaultAdapterConfig('llama'), rank: 2, alpha: 4, dropout: 0.1, targets: 'all-linear', seed: 3 },
  lr: 5e-3, steps: 8, batchSize: 2, gradAccum: 2, seqLen: 24, warmup: 2, schedule: 'cosine', valSplit: 0, evalEvery: 0, seed: 11,
};

/**
 * The same steps with the loss sum and norm read back the way they were before the ring: after
 * each step's submit, a separate copy, submit and map per value (pool.read), awaited at once.
 */
async function separateReadbackPath(t: Trainer): Promise<{ loss: number; norm: number }[]> {
  const { net, optimizer, gpu } = t;
  const stream = new BatchStream(t.data.train, { ...t.options, padId: t.data.padId });
  const rec = gpu.recorder('test.step');
  const out: { loss: number; norm: number }[] = [];
  for (let step = 0; step < t.state.totalSteps; step++) {
    const batches = stream.nextStep();
    const tokens = batches.reduce((n, b) => n + b.tokenCount, 0);
    net.recordZeroGrads(rec);
    net.recordZeroLoss(rec);
    batches.forEach((b, i) => net.recordStep(rec, b, { backward: true, lossScale: 1 / tokens, dropoutSeed: dropoutSeed(t.options.seed, step, i) }));
    optimizer.record(rec, lrAt(t.schedule, step), step + 1, net.lossSum);
    rec.submit();
    const [sum] = new Float32Array(await gpu.pool.read(net.lossSum));
    const [norm] = new Float32Array(await gpu.pool.read(optimizer.norm));
    out.push({ loss: sum / tokens, norm });
  }
  rec.destroy();
  return out;
}

describe('the trainer\'s metrics readback ring', () => {
  it('one submit per step, no staging buffer created while training, the same losses and norms as separate readbacks, step 1 as float64', async () => {
    const gpu = await testGpu();
    const { counts, restore } = countSubmitsAndStaging(gpu);
    const ring = await Trainer.create(gpu, model, rows, options);
    const createdByTrainer = counts.staging;
    const submitsAtStep: number[] = [];
    const steps: { loss: number; norm: number }[] = [];
    const s0 = counts.submits;
    const result = await ring.run({
      onStep: (e) => {
        submitsAtStep.push(counts.submits - s0);
        steps.push({ loss: e.loss, norm: e.grad_norm });
      },
    });
    const runSubmits = counts.submits - s0;
    const runStaging = counts.staging - createdByTrainer;
    restore();
    expect(result.reason).toBe('done');
    expect(steps).toHaveLength(8);

    // one submit per step: step n is reported once step n + 1 is queued (read one step late)
    expect(runSubmits).toBe(8);
    expect(submitsAtStep).toEqual([2, 3, 4, 5, 6, 7, 8, 8]);
    // the ring's slots are all the staging buffers, allocated once (the pool may hand back cached ones)
    expect(createdByTrainer).toBeLessThanOrEqual(READBACK_RING_SLOTS);
    expect(runStaging).toBe(0);
    expect(gpu.pool.byOwner().readback).toBe(READBACK_RING_SLOTS * 16);

    // the losses and norms the separate readbacks see, bit for bit (same kernels, same inputs)
    const separate = await Trainer.create(gpu, model, rows, options);
    const expected = await separateReadbackPath(separate);
    expect(steps).toEqual(expected);
    expect(steps.every((s) => Number.isFinite(s.loss) && Number.isFinite(s.norm) && s.norm > 0)).toBe(true);
    expect(new Set(steps.map((s) => s.loss)).size).toBe(8);

    // step 1 (B = 0 at PEFT's init, so the base model's loss) against the float64 reference
    const ref = new ReferenceModel(model.config, model.weights);
    const V = model.config.vocabSize;
    let sum = 0;
    let counted = 0;
    for (const b of new BatchStream(separate.data.train, { ...options, padId: separate.data.padId }).nextStep()) {
      for (let r = 0; r < b.B; r++) {
        const mask = [...b.attentionMask.subarray(r * b.T, (r + 1) * b.T)];
        const n = mask.reduce((a, x) => a + x, 0);
        const ids = [...b.inputIds.subarray(r * b.T, r * b.T + n)];
        const targets = b.targets.subarray(r * b.T, r * b.T + n);
        sum += crossEntropyRef(ref.forward(ids), targets, n, V).reduce((a, x) => a + x, 0);
        counted += targets.filter((x) => x !== -1).length;
      }
    }
    expect(Math.abs(steps[0].loss - sum / counted) / (sum / counted)).toBeLessThan(1e-5);
    separate.destroy();

    // a pause mid-run (every step settled first) and a stop: the same losses, and nothing left in flight
    const paused = await Trainer.create(gpu, model, rows, options);
    const stop = new AbortController();
    const again: number[] = [];
    let pauses = 0;
    const r2 = await paused.run({
      signal: stop.signal,
      onStep: (e) => {
        again.push(e.loss);
        if (e.step === 6) stop.abort();
      },
      pause: () => (paused.state.step === 3 && pauses === 0 ? new Promise((r) => setTimeout(r, 5)) : null),
      onPause: () => void pauses++,
    });
    expect(pauses).toBe(1);
    expect(r2.reason).toBe('stopped');
    expect(again).toEqual(steps.slice(0, r2.steps).map((s) => s.loss));
    paused.destroy();
    await gpu.sync('after the stop'); // a read left mapping would have been a validation error

    // nothing of the ring is left once the trainer is closed
    ring.destroy();
    expect(gpu.pool.byOwner().readback).toBeUndefined();
  }, 120_000);

  // Last in this file: it closes the file's device (whose pipelines the test above has built).
  it('a device lost mid-run stops it with the device-lost message', async () => {
    const gpu = await testGpu();
    const t = await Trainer.create(gpu, model, rows, { ...options, gradAccum: 1 });
    const seen: number[] = [];
    const run = t.run({ onStep: (e) => (seen.push(e.step), e.step === 2 && gpu.device.destroy()) });
    await expect(run).rejects.toMatchObject({ name: 'GpuError', kind: 'device-lost', message: expect.stringMatching(/^The GPU device was closed/) });
    expect(seen).toEqual([1, 2]);
    t.destroy();
  }, 60_000);
});
