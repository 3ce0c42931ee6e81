/**
 * The studio's first-run scenario, headless: the default Balanced preset on the first 120 SMS rows
 * (10% held out, split seed 42), 30 steps on stories260K, then what the Train step and the Compare
 * step report on the same held-out rows, by the same rule (src/eval).
 * Run: npx tsx bench/studio-sms-scenario.ts [steps] [lr]   (lr: the preset rule's when omitted)
 */
import { readFileSync } from 'node:fs';
import { parseDataset } from '../src/data/parse.ts';
import { writeAnswer } from '../src/eval/answers.ts';
import { compareLabelPredictions } from '../src/eval/held-out.ts';
import { reportSummary } from '../src/eval/report.ts';
import { createNodeGpu } from '../src/gpu/node.ts';
import { loraScale } from '../src/lora/config.ts';
import { loadModelFromPath } from '../src/model/load-node.ts';
import { Network } from '../src/model/network.ts';
import { defaultTrainSettings } from '../src/train/options.ts';
import { Trainer } from '../src/train/trainer.ts';
import { presetSettings } from '../src/ui/adapter-settings.ts';

const data = new URL('../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url).pathname;
const modelPath = new URL('../../shared/data/models/stories260K.gguf', import.meta.url).pathname;
const steps = Number(process.argv[2] ?? 30);
const rows = parseDataset(new Uint8Array(readFileSync(data)), 'SMSSpamCollection.tsv').rows.slice(0, 120);
const model = loadModelFromPath(modelPath);
const preset = presetSettings('balanced', model.config, undefined, 108);
const lr = process.argv[3] ? Number(process.argv[3]) : preset.training.learningRate;
const t = preset.training;
const gpu = await createNodeGpu();
const trainer = await Trainer.create(gpu, model, rows, {
  ...defaultTrainSettings(), adapter: preset.adapter, lr, epochs: t.epochs, steps, batchSize: t.batchSize,
  seqLen: Math.min(t.seqLen, model.config.maxPositions), seed: 42, valSplit: 0.1,
});
process.stderr.write(`preset: ${preset.suggestion}\nrun: lr ${lr}, ${steps} steps, ${trainer.data.train.length} training rows, ${trainer.data.val.length} held out\n`);
const result = await trainer.run({ onEval: (e) => process.stderr.write(`step ${e.step} val loss ${e.val_loss.toFixed(3)} val accuracy ${e.val_accuracy}\n`) });
const final = (await trainer.finalEvaluation())!;
const kept = await trainer.adapterParams('best');
const o = trainer.scoreOptions();
const valRows = trainer.data.valRows;
trainer.destroy();

// the Compare step: a separate inference network holding the kept adapter, as the worker builds it
const net = await Network.create(gpu, model, { maxBatch: 4, maxSeq: 512, training: false, adapter: { layout: trainer.layout, scale: loraScale(preset.adapter), dropout: 0 } });
net.setAdapterParams(kept);
const compare = await compareLabelPredictions(net, model.tokenizer, valRows, trainer.data.labels!, { ...o, batchSize: 4 });
const written: string[] = [];
for (const row of valRows.slice(0, 4)) written.push(await writeAnswer(net, model, row, false, { maxNewTokens: 24, temperature: 0, seed: 42 }, 512));
net.destroy();
gpu.destroy();
process.stdout.write(`${JSON.stringify({
  steps: result.steps, val_loss: result.bestValLoss, kept_step: final.step,
  train_step: { base: reportSummary(final.base), tuned: reportSummary(final.tuned), confusion: final.tuned.kind === 'labels' ? final.tuned.confusion : null },
  compare_step: { base: reportSummary(compare.baseReport), tuned: reportSummary(compare.tunedReport), confusion: compare.tunedReport.confusion },
  same_predictions: compare.tuned.every((p, i) => p === final.tunedAnswers[i]),
  tuned_writes: written,
}, null, 1)}\n`);
