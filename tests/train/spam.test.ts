import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDataset } from '../../src/data/parse.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { spamExperiment } from '../../src/train/spam-experiment.ts';
import { testGpu } from '../helpers/gpu.ts';

const data = new URL('../../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url).pathname;
const modelPath = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url).pathname;

// 60 steps of 8×48 tokens on 480 rows, then 200 held-out rows scored by label likelihood: about
// 75 s on SwiftShader with 2 cores. Measured there: 96.5% held out (majority class 84%, base 16%).
// The longer run (bench/train-sms-spam.ts: 300 steps, 2,000 rows, 500 held out) reached 97.2%.
describe('LoRA on stories260K learns SMS spam vs ham', () => {
  it('beats the majority class on held-out rows the training never saw', async () => {
    const rows = parseDataset(new Uint8Array(readFileSync(data)), 'SMSSpamCollection.tsv').rows;
    const gpu = await testGpu();
    const r = await spamExperiment(gpu, loadModelFromPath(modelPath), rows, { heldOut: 200, trainRows: 480, steps: 60, lr: 3e-3, rank: 8, batchSize: 8, seqLen: 48, seed: 1 });
    console.log(JSON.stringify(r));
    // Well above the majority class (ham) of these 200 held-out rows: 0.965 measured.
    expect(r.majority).toBeCloseTo(0.84, 2);
    expect(r.after).toBeGreaterThanOrEqual(0.93);
  }, 900_000);
});
