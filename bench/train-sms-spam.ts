/**
 * LoRA on stories260K learns SMS spam vs ham. Run: npx tsx bench/train-sms-spam.ts [steps] [trainRows] [lr]
 * Holds out 500 rows the training never sees and prints the held-out accuracy before and after.
 * Measured on a 2-core machine with SwiftShader (CPU WebGPU), `300 2000 2e-3`: 97.2% held-out
 * accuracy (majority class 86.4%, base model 14.4%), 950 s of training at about 340 tokens/s.
 */
import { readFileSync } from 'node:fs';
import { parseDataset } from '../src/data/parse.ts';
import { createNodeGpu } from '../src/gpu/node.ts';
import { loadModelFromPath } from '../src/model/load-node.ts';
import { spamExperiment } from '../src/train/spam-experiment.ts';

const data = new URL('../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url).pathname;
const modelPath = new URL('../../shared/data/models/stories260K.gguf', import.meta.url).pathname;
const steps = Number(process.argv[2] ?? 300);
const trainRows = Number(process.argv[3] ?? 2000);
const lr = Number(process.argv[4] ?? 2e-3);
const rows = parseDataset(new Uint8Array(readFileSync(data)), 'SMSSpamCollection.tsv').rows;
const gpu = await createNodeGpu();
const model = loadModelFromPath(modelPath);
const r = await spamExperiment(gpu, model, rows, { heldOut: 500, trainRows, steps, lr, rank: 8, batchSize: 16, seqLen: 96, seed: 1 }, (e) => {
  if ('loss' in e && e.step % 10 === 0) process.stderr.write(`step ${e.step} loss ${e.loss.toFixed(4)} ${e.tokens_per_s.toFixed(0)} tok/s ${e.elapsed_s.toFixed(0)}s\n`);
  if ('val_loss' in e) process.stderr.write(`step ${e.step} val loss ${e.val_loss.toFixed(4)}\n`);
});
process.stdout.write(`${JSON.stringify({ trainRows, lr, ...r })}\n`);
gpu.destroy();
