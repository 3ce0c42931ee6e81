import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/train.ts';
import { makeBatches } from '../../src/data/batch.ts';
import { encodeExample } from '../../src/data/prompt.ts';
import { loraScale } from '../../src/lora/config.ts';
import { initAdapter } from '../../src/lora/init.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { Network } from '../../src/model/network.ts';
import { testGpu } from '../helpers/gpu.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';

describe('tsugiki train', () => {
  it('--optimizer sgd --no-shuffle --dropout 0 --batch-size 3 --steps 1 is one plain gradient step on the first 3 rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-train-'));
    const modelDir = writeTinyModel(join(dir, 'model'), 'llama');
    const lines = ['prompt,completion', 'one,uno', 'two,dos', 'three,tres', 'four,cuatro', 'five,cinco'];
    writeFileSync(join(dir, 'data.csv'), lines.join('\n'));
    const out = join(dir, 'out');
    const lr = 0.05;
    const code = await run([modelDir, '--data', join(dir, 'data.csv'), '--out', out, '--optimizer', 'sgd', '--no-shuffle', '--dropout', '0',
      '--batch-size', '3', '--steps', '1', '--lr', String(lr), '--val-split', '0', '--max-grad-norm', '0', '--rank', '2', '--targets', 'all-linear', '--seed', '9', '--json']);
    expect(code).toBe(0);
    const model = loadModelFromPath(modelDir);
    const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(cfg.base_model_name_or_path).toBe(modelDir);
    const trained = importPeftAdapter(cfg, new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors'))), model.config);

    // Independently: PEFT init with the same seed, the network's gradient of the mean loss on rows 1-3.
    const p0 = initAdapter(trained.layout, { init: 'default', seed: 9 });
    const gpu = await testGpu();
    const net = await Network.create(gpu, model, { maxBatch: 3, maxSeq: 64, training: true, adapter: { layout: trained.layout, scale: loraScale(trained.cfg), dropout: 0 } });
    net.setAdapterParams(p0);
    const rows = [['one', 'uno'], ['two', 'dos'], ['three', 'tres']].map(([input, output], i) => ({ input, output, line: i + 2 }));
    const [batch] = makeBatches(rows.map((r) => encodeExample(model.tokenizer, r, { seqLen: 256, useChatTemplate: false })), 3, { shuffle: false, seed: 0, padId: model.tokenizer.padId ?? 0 });
    const rec = gpu.recorder('test.grad');
    net.recordZeroGrads(rec);
    net.recordZeroLoss(rec);
    net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: 0 });
    rec.submit();
    const grad = await gpu.pool.readF32(net.loraGrads!);
    net.destroy();
    let changed = 0;
    for (let i = 0; i < p0.length; i++) {
      // torch.optim.SGD: p − lr·g in f32 (one rounding for the product, one for the difference)
      expect(trained.params[i]).toBe(Math.fround(p0[i] - Math.fround(Math.fround(lr) * grad[i])));
      if (trained.params[i] !== p0[i]) changed++;
    }
    expect(changed).toBeGreaterThan(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(1);
    expect(Object.keys(metrics[0])).toEqual(['step', 'loss', 'lr', 'grad_norm', 'tokens_per_s', 'eta_s', 'elapsed_s', 'epoch']);
    expect(metrics[0].lr).toBe(lr);
    expect(metrics[0].grad_norm).toBeCloseTo(Math.sqrt(grad.reduce((s, g) => s + g * g, 0)), 5); // f32 sums of squares
  }, 120_000);
});
