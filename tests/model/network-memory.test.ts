/**
 * The memory-saving paths change where values live, not what they are: the LM head over row
 * chunks gives the unchunked loss and gradients (to f32 rounding), and recomputing block forwards
 * in backward gives bit for bit the gradients of keeping every activation (dropout included).
 */
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/data/batch.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { Network } from '../../src/model/network.ts';
import { planMemory } from '../../src/model/plan.ts';
import type { LoadedModel } from '../../src/model/load-source.ts';
import { testGpu } from '../helpers/gpu.ts';
import { paddedBatch, tinyModel } from './network-helpers.ts';
import { layoutFor, randomParams } from './network-lora-helpers.ts';

interface StepResult {
  loss: number;
  tokenLoss: Float32Array;
  grads: Float32Array;
  /** Gradient of the embedding output after the whole backward. */
  dResid: Float32Array;
}

async function trainStep(gpu: Gpu, model: LoadedModel, batch: Batch, o: { recompute?: number; headRows?: number; dropout: number }): Promise<StepResult> {
  const layout = layoutFor(model.config, 4);
  const net = await Network.create(gpu, model, {
    maxBatch: batch.B, maxSeq: batch.T, training: true, adapter: { layout, scale: 1.5, dropout: o.dropout }, recompute: o.recompute, headRows: o.headRows,
  });
  net.setAdapterParams(Float32Array.from(randomParams(layout, 21, 0.3)));
  const rec = gpu.recorder('step');
  net.recordZeroLoss(rec);
  net.recordZeroGrads(rec);
  net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: 77 });
  rec.submit();
  rec.destroy();
  await gpu.sync('step');
  const N = batch.B * batch.T;
  const C = model.config.hidden;
  const out = {
    loss: (await gpu.pool.readF32(net.lossSum))[0],
    tokenLoss: await gpu.pool.readF32(net.tokenLoss),
    grads: await gpu.pool.readF32(net.loraGrads!),
    dResid: await gpu.pool.readF32(net.activations.get('grad.dResid', [N, C])),
  };
  net.destroy();
  return out;
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let scale = 0;
  a.forEach((x, i) => {
    err = Math.max(err, Math.abs(x - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  });
  return err / scale;
}

describe('LM head over row chunks', () => {
  for (const kind of ['llama', 'gpt2'] as const) {
    it(`${kind}: 64-row chunks (150 rows: 64 + 64 + 22) give the unchunked loss, token losses, dX and LoRA gradients`, async () => {
      const gpu = await testGpu();
      const model = tinyModel(kind);
      const { batch } = paddedBatch([50, 31, 44], model.config.vocabSize, 5, 1, 3);
      const whole = await trainStep(gpu, model, batch, { headRows: 1 << 20, dropout: 0 });
      const chunked = await trainStep(gpu, model, batch, { headRows: 64, dropout: 0 });
      expect(Math.abs(chunked.loss - whole.loss) / whole.loss).toBeLessThan(1e-6);
      expect(maxRel(chunked.tokenLoss, whole.tokenLoss)).toBeLessThan(1e-6);
      expect(maxRel(chunked.dResid, whole.dResid)).toBeLessThan(1e-6);
      expect(maxRel(chunked.grads, whole.grads)).toBeLessThan(1e-6);
      expect(whole.grads.some((g) => g !== 0)).toBe(true);
    });
  }

  it('net.logits reads the chunks back into one [B, T, V] array equal to a single chunk', async () => {
    const gpu = await testGpu();
    const model = tinyModel('qwen2');
    const { batch } = paddedBatch([70, 66], model.config.vocabSize, 9);
    const read = async (headRows: number) => {
      const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: 70, training: false, adapter: null, headRows });
      expect(net.activations.plan.headRows).toBe(Math.min(headRows, 140));
      const logits = await net.logits(batch);
      net.destroy();
      return logits;
    };
    const whole = await read(1 << 20);
    const chunked = await read(64);
    expect(chunked.length).toBe(2 * 70 * model.config.vocabSize);
    expect(maxRel(chunked, whole)).toBeLessThan(1e-6);
  });
});

describe('activation recomputation', () => {
  for (const kind of ['llama', 'qwen3', 'gemma3', 'gpt2'] as const) {
    it(`${kind}: LoRA gradients, loss and dX are bitwise those of keeping every activation (dropout 0.2, every block and every 2nd)`, async () => {
      const gpu = await testGpu();
      const model = tinyModel(kind);
      const { batch } = paddedBatch([12, 9], model.config.vocabSize, 3, 1, 2);
      const kept = await trainStep(gpu, model, batch, { recompute: 0, dropout: 0.2 });
      for (const k of [1, 2]) {
        const again = await trainStep(gpu, model, batch, { recompute: k, dropout: 0.2 });
        expect(again.grads).toEqual(kept.grads);
        expect(again.dResid).toEqual(kept.dResid);
        expect(again.loss).toBe(kept.loss);
      }
      expect(kept.grads.some((g) => g !== 0)).toBe(true);
    });
  }

  it('dropout is active in those steps, so the bitwise match covers the recomputed masks', async () => {
    const gpu = await testGpu();
    const model = tinyModel('llama');
    const { batch } = paddedBatch([12, 9], model.config.vocabSize, 3, 1, 2);
    const a = await trainStep(gpu, model, batch, { recompute: 1, dropout: 0.2 });
    const b = await trainStep(gpu, model, batch, { recompute: 1, dropout: 0 });
    expect(maxRel(a.grads, b.grads)).toBeGreaterThan(1e-3);
  });

  it('keeps only the block inputs it recomputes from', () => {
    const model = tinyModel('llama');
    const adapted = new Set(layoutFor(model.config, 4).entries.map((e) => e.name));
    const plan = (recompute: number) => planMemory(model.config, { B: 2, T: 16, training: true, rank: 4, adapted, recompute });
    const keys = (recompute: number) => plan(recompute).buffers.map((b) => b.key);
    expect(keys(0)).toContain('layer1.fc');
    expect(keys(1).some((k) => /^layer\d/.test(k))).toBe(false);
    expect(keys(1).filter((k) => k.startsWith('resid'))).toEqual(['resid0', 'resid1', 'resid.s0']);
    expect(keys(2).filter((k) => k.startsWith('resid'))).toEqual(['resid0', 'resid.s1', 'resid.s0']);
    expect(plan(1).activationBytes).toBeLessThan(plan(0).activationBytes);
  });
});
