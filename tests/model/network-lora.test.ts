import { describe, it, expect } from 'vitest';
import { Network } from '../../src/model/network.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { finiteDifference } from '../helpers/numeric.ts';
import { logitsError, paddedBatch, tinyModel } from './network-helpers.ts';
import { DropoutReference, layoutFor, randomParams, referenceMeanLoss, refLora, sampledCoordinates } from './network-lora-helpers.ts';
import type { TinyKind } from '../helpers/tiny-models.ts';

const RANK = 4;
const SCALE = 2; // alpha 8 / r 4
const LENGTHS = [6, 4];

/** max |a − b| / max |b|: gradient error relative to the largest sampled gradient. */
function relToMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

/** Backward's dA and dB against central differences of the float64 reference's mean loss, at sampled coordinates. */
async function expectGradientsMatch(kind: TinyKind, rank: number, dropout: number, layers: number[] | null): Promise<void> {
  const gpu = await testGpu();
  const model = tinyModel(kind);
  const scale = 8 / rank; // alpha 8
  const layout = layoutFor(model.config, rank, layers);
  const params = randomParams(layout, 21, 0.2);
  const { batch, rows } = paddedBatch(LENGTHS, model.config.vocabSize, 9, 1, 2);
  const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 6, training: true, adapter: { layout, scale, dropout } });
  net.setAdapterParams(Float32Array.from(params));
  const stepSeed = 77;
  const rec = gpu.recorder('grad');
  net.recordZeroLoss(rec);
  net.recordZeroGrads(rec);
  net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: stepSeed });
  rec.submit();
  rec.destroy();
  await gpu.sync('grad test');
  const grads = await gpu.pool.readF32(net.loraGrads!);
  const lossSum = (await gpu.pool.readF32(net.lossSum))[0];

  const ref = new DropoutReference(model.config, model.weights);
  ref.p = dropout;
  ref.stepSeed = stepSeed;
  layout.entries.forEach((e, i) => ref.moduleIndex.set(e.name, i));
  const lora = refLora(layout, params, scale);
  const loss = (x: Float64Array) => referenceMeanLoss(ref, batch, rows, refLora(layout, x, scale));
  // The loss itself: float64 reference vs the GPU's f32 sum.
  expect(Math.abs(lossSum / batch.tokenCount - referenceMeanLoss(ref, batch, rows, lora))).toBeLessThan(1e-5);
  const coords = sampledCoordinates(layout, dropout > 0 ? 3 : 2, 4);
  const fd = finiteDifference(loss, Float64Array.from(params), coords, 1e-4);
  const got = coords.map((i) => grads[i]);
  const err = relToMax(got, fd);
  if (process.env.TSUGIKI_REPORT) console.log(kind, 'rank', rank, 'dropout', dropout, 'grad rel err', err, 'coords', coords.length);
  // Central differences in float64 (h = 1e-4: truncation ~h²·f''' ≈ 1e-9) against f32 GPU gradients
  // accumulated over ~10 tokens: f32 rounding gives ~1e-6 relative; 1e-3 leaves room for the
  // cancellation in small coordinates while still failing for any wrong term (those are O(1)).
  expect(err).toBeLessThan(1e-3);
  net.destroy();
}

describe('LoRA in the GPU network', () => {
  for (const kind of ['llama', 'qwen3', 'gemma3', 'gpt2'] as TinyKind[]) {
    it(`${kind}: with B = 0 the logits are bitwise the base model's`, async () => {
      const gpu = await testGpu();
      const model = tinyModel(kind);
      const layout = layoutFor(model.config, RANK);
      const { batch } = paddedBatch(LENGTHS, model.config.vocabSize, 3);
      const base = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 6, training: false, adapter: null });
      const tuned = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 6, training: false, adapter: { layout, scale: SCALE, dropout: 0 } });
      tuned.setAdapterParams(Float32Array.from(randomParams(layout, 5, 0.3, true)));
      const a = await base.logits(batch);
      const b = await tuned.logits(batch);
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true); // exact: y + s·h·0ᵀ = y
      base.destroy();
      tuned.destroy();
    });

    it(`${kind}: with random A and B (all linear modules) the logits match the reference with LoRA hooks`, async () => {
      const gpu = await testGpu();
      const model = tinyModel(kind);
      const layout = layoutFor(model.config, RANK);
      const params = randomParams(layout, 11, 0.2);
      const { batch, rows } = paddedBatch(LENGTHS, model.config.vocabSize, 3);
      const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 6, training: false, adapter: { layout, scale: SCALE, dropout: 0 } });
      net.setAdapterParams(Float32Array.from(params));
      expect(Array.from(await net.readAdapterParams())).toEqual(Array.from(params));
      const logits = await net.logits(batch);
      const ref = new ReferenceModel(model.config, model.weights);
      const lora = refLora(layout, params, SCALE);
      const err = logitsError(logits, rows.map((r) => ref.forward(r, { lora })), LENGTHS, batch.T, model.config.vocabSize);
      if (process.env.TSUGIKI_REPORT) console.log(kind, 'lora logits', err);
      expect(err.rel).toBeLessThan(1e-4); // f32 accumulation; measured ~1e-6
      net.destroy();
    });

    for (const dropout of [0, 0.3]) {
      it(`${kind}: dA and dB from backward equal finite differences of the reference's mean loss (dropout ${dropout})`, async () => {
        // Layer 1 only for dropout (the mask check), every layer otherwise.
        await expectGradientsMatch(kind, RANK, dropout, dropout > 0 ? [1] : null);
      });
    }
  }

  it("gpt2 at rank 3: c_attn's B row blocks (C·R = 96 floats) lie apart in the flat buffer; dA and dB still equal finite differences", async () => {
    const layout = layoutFor(tinyModel('gpt2').config, 3, [0]);
    const [q, k, v] = layout.entries[0].b.blocks!;
    expect([k.offset - q.offset, v.offset - k.offset]).toEqual([128, 128]); // 96 floats each, padded to 128
    await expectGradientsMatch('gpt2', 3, 0.3, [0]);
  });

  it('refuses backward on a network made for inference', async () => {
    const gpu = await testGpu();
    const model = tinyModel('llama');
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: 4, training: false, adapter: null });
    const { batch } = paddedBatch([4], model.config.vocabSize, 1);
    expect(() => net.recordStep(gpu.recorder('x'), batch, { backward: true, lossScale: 1, dropoutSeed: 0 })).toThrow(/training: true/);
    net.destroy();
  });
});
