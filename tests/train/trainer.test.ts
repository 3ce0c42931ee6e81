import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/data/dataset.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { parseCheckpoint, serializeCheckpoint } from '../../src/train/checkpoint.ts';
import { defaultTrainSettings, type TrainOptions } from '../../src/train/options.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { TEXT_EVAL_TOKENS } from '../../src/eval/held-out.ts';
import { textReport } from '../../src/eval/report.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';

const model = loadModelFiles(tinyModelFiles('llama'), 'tiny-llama');
const rows: Row[] = Array.from({ length: 10 }, (_, i) => ({ input: `item ${i}`, output: i % 3 === 0 ? 'red' : 'blue', line: i + 1 }));
const options: TrainOptions = {
  ...defaultTrainSettings(),
  adapter: { ...defaultAdapterConfig('llama'), rank: 2, alpha: 4, dropout: 0.1, targets: 'all-linear', seed: 3 },
  lr: 5e-3, steps: 6, batchSize: 2, gradAccum: 2, seqLen: 24, warmup: 2, schedule: 'cosine', valSplit: 0, evalEvery: 0, seed: 11,
};
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

async function losses(t: Trainer, stopAfter?: number) {
  const out: number[] = [];
  const result = await t.run({ onStep: (e) => out.push(e.loss), stopAfter });
  return { out, result };
}

describe('Trainer on the GPU network (tiny Llama)', () => {
  it('trains only A and B, and 3 steps + checkpoint + 3 steps equals 6 steps bit for bit', async () => {
    const gpu = await testGpu();
    const straight = await Trainer.create(gpu, model, rows, options);
    const watched = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.mlp.down_proj.weight', 'model.embed_tokens.weight', 'lm_head.weight'];
    const readWeights = () => Promise.all(watched.map(async (n) => new Uint8Array(await gpu.pool.read(straight.net.weights.get(n)))));
    const before = await readWeights();
    const p0 = await straight.adapterParams('last');
    const a = await losses(straight);
    expect(a.result.reason).toBe('done');
    expect(a.out).toHaveLength(6);
    expect(a.out.every(Number.isFinite)).toBe(true);
    const after = await readWeights();
    after.forEach((w, i) => expect(w).toEqual(before[i])); // frozen weights: bit-identical
    const pA = await straight.adapterParams('last');
    expect(bits(pA)).not.toEqual(bits(p0)); // the adapter did change
    straight.destroy();

    const first = await Trainer.create(gpu, model, rows, options);
    const b = await losses(first, 3);
    expect(b.result.steps).toBe(3);
    const ck = parseCheckpoint(serializeCheckpoint(await first.checkpoint()));
    first.destroy();
    const second = await Trainer.create(gpu, model, rows, { ...options, lr: 1 }, { checkpoint: ck }); // options come from the checkpoint
    const c = await losses(second);
    expect(c.result.steps).toBe(6);
    // Same kernels on the same inputs in the same order: bitwise identical (tolerance 0).
    expect([...b.out, ...c.out]).toEqual(a.out);
    expect(bits(await second.adapterParams('last'))).toEqual(bits(pA));

    // PEFT export → import gives back exactly the trained buffer
    const files = exportPeftAdapter(second.layout, pA, second.options.adapter, 'llama');
    const back = importPeftAdapter(files['adapter_config.json'], files['adapter_model.safetensors'], model.config);
    expect(bits(back.params)).toEqual(bits(pA));
    expect(back.layout).toEqual(second.layout);
    second.destroy();
  }, 120_000);

  it('stops on a NaN/Inf loss or gradient with a message and rolls the whole state back to the last good step', async () => {
    const gpu = await testGpu();
    const wild = { ...options, lr: 1e30, warmup: 0, schedule: 'constant' as const, dropout: 0, steps: 5 };
    const run = await Trainer.create(gpu, model, rows, wild);
    const out: number[] = [];
    const saved: { step: number; finite: boolean }[] = [];
    const result = await run.run({
      onStep: (e) => out.push(e.loss),
      checkpointEvery: 1,
      onCheckpoint: async (t) => {
        const ck = await t.checkpoint();
        saved.push({ step: ck.state.step, finite: [ck.params, ck.adam!.m, ck.adam!.v].every((a) => a.every(Number.isFinite)) });
      },
    });
    expect(result.reason).toBe('non-finite');
    const bad = result.steps + 1;
    // checkpoints only of good steps, never of the broken one
    expect(saved.every((s) => s.finite && s.step <= result.steps)).toBe(true);
    expect(saved.map((s) => s.step)).toEqual(Array.from({ length: result.steps }, (_, i) => i + 1));
    expect(result.message).toMatch(new RegExp(`became (NaN|infinite|-infinite) at step ${bad}; try a lower learning rate \\(now 1e\\+30`));
    expect(out).toHaveLength(result.steps); // only good steps are reported
    const kept = await run.adapterParams('last');
    const keptMoments = (await run.optimizer.readMoments())!;
    const keptState = structuredClone(run.state);
    run.destroy();
    const good = await Trainer.create(gpu, model, rows, wild);
    await good.run({ stopAfter: result.steps });
    expect(bits(kept)).toEqual(bits(await good.adapterParams('last')));
    expect(kept.every(Number.isFinite)).toBe(true);
    // Adam moments, data cursor, step and token counts: exactly those of a run stopped there
    const goodMoments = (await good.optimizer.readMoments())!;
    expect(bits(keptMoments.m)).toEqual(bits(goodMoments.m));
    expect(bits(keptMoments.v)).toEqual(bits(goodMoments.v));
    const { elapsedS: _a, ...kept2 } = keptState;
    const { elapsedS: _b, ...good2 } = good.state;
    expect(kept2).toEqual(good2);
    good.destroy();
  }, 120_000);

  it('checkpoints from inside the run with every step settled; speed and ETA cover the whole run', async () => {
    const gpu = await testGpu();
    const t = await Trainer.create(gpu, model, rows, options);
    const seen: { step: number; params: Float32Array }[] = [];
    const etas: number[] = [];
    const elapsed: number[] = [];
    const wall = performance.now();
    await t.run({
      checkpointEvery: 2,
      onCheckpoint: async (tr) => {
        const ck = await tr.checkpoint();
        seen.push({ step: ck.state.step, params: ck.params });
      },
      onStep: (e) => {
        etas.push(e.eta_s * e.step / (e.elapsed_s * (6 - e.step) || 1));
        elapsed.push(e.elapsed_s);
      },
    });
    // training seconds grow step by step and never exceed the wall time (checkpoints do not count them twice)
    expect(elapsed.every((x, i) => i === 0 || x >= elapsed[i - 1])).toBe(true);
    expect(t.state.elapsedS).toBeLessThanOrEqual((performance.now() - wall) / 1000);
    expect(seen.map((s) => s.step)).toEqual([2, 4]); // not at the last step: the run ends there
    // the checkpoint at step 2 holds step 2's adapter, not step 3's (queued but not yet taken)
    const ref = await Trainer.create(gpu, model, rows, options);
    await ref.run({ stopAfter: 2 });
    expect(bits(seen[0].params)).toEqual(bits(await ref.adapterParams('last')));
    ref.destroy();
    // ETA = elapsed / step × steps left (the ratio is 1 wherever steps remain)
    etas.slice(0, 5).forEach((r) => expect(r).toBeCloseTo(1, 9));
    expect(t.state.realTokens).toBeGreaterThan(0);
    t.destroy();
  }, 120_000);

  it('validates, scores labels and keeps the best adapter', async () => {
    const gpu = await testGpu();
    const t = await Trainer.create(gpu, model, [...rows, ...rows.map((r) => ({ ...r, line: r.line + 10 }))], { ...options, steps: 2, gradAccum: 1, valSplit: 0.2, evalEvery: 1 });
    const evals: { val_loss: number; val_accuracy?: number }[] = [];
    const r = await t.run({ onEval: (e) => evals.push(e) });
    expect(evals).toHaveLength(2);
    expect(evals.every((e) => Number.isFinite(e.val_loss) && e.val_accuracy !== undefined && e.val_accuracy >= 0 && e.val_accuracy <= 1)).toBe(true);
    expect(r.bestValLoss).toBe(Math.min(...evals.map((e) => e.val_loss)));
    // the final evaluation scores the kept adapter with the same rule and rows as validation
    const final = (await t.finalEvaluation())!;
    expect(final.step).toBe(r.bestStep);
    if (final.tuned.kind !== 'labels') throw new Error('labels expected');
    expect(final.tuned.rows).toBe(t.data.valRows.length);
    expect(final.tuned.confusion.flat().reduce((a, b) => a + b, 0)).toBe(t.data.valRows.length);
    if (r.bestStep === 2) expect(final.tuned.accuracy).toBe(evals[1].val_accuracy);
    t.destroy();
  }, 120_000);

  it('ends a free-text run with greedy answers of the base model (strength 0 = the reference) and the adapter, scored', async () => {
    const gpu = await testGpu();
    const text: Row[] = Array.from({ length: 12 }, (_, i) => ({ input: `say ${i}`, output: `number ${i} is ${i % 2 ? 'odd' : 'even'} today`, line: i + 1 }));
    const t = await Trainer.create(gpu, model, text, { ...options, steps: 1, gradAccum: 1, valSplit: 0.25 });
    await t.run();
    const final = (await t.finalEvaluation())!;
    if (final.tuned.kind !== 'text') throw new Error('text expected');
    const val = t.data.valRows;
    expect(final.tuned.rows).toBe(val.length);
    expect(final.tuned).toEqual(textReport(val.map((r) => r.output), final.tunedAnswers));
    const ref = new ReferenceModel(model.config, model.weights);
    const tok = model.tokenizer;
    val.forEach((row, i) => {
      const ids = tok.encode(`${row.input}\n### Answer:\n`, { addBos: tok.addsBos });
      const stops = [tok.eosId!, ...(Array.isArray(model.config.eosId) ? model.config.eosId : model.config.eosId === null ? [] : [model.config.eosId])];
      const out = ref.greedy(ids, TEXT_EVAL_TOKENS, { stopIds: stops }).filter((id) => !stops.includes(id));
      expect(final.baseAnswers[i]).toBe(tok.decode(out, { skipSpecial: true }).trim());
    });
    t.destroy();
  }, 120_000);
});
