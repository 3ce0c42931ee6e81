/**
 * The SMS spam experiment behind bench/train-sms-spam.ts and its in-test version: hold out a fixed
 * set of rows the training never sees (seeded split), train a LoRA on a subset of the rest, and
 * report the held-out evaluation of src/eval (the likeliest label) ("ham" vs "spam" completions), before and after.
 */
import type { Row } from '../data/dataset.ts';
import { mulberry32, shuffleInPlace } from '../data/rng.ts';
import { splitTrainVal } from '../data/split.ts';
import type { Gpu } from '../gpu/device.ts';
import { defaultAdapterConfig } from '../lora/config.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { labelReport, type LabelReport } from '../eval/report.ts';
import { predictLabels } from '../eval/score.ts';
import type { EvalEvent, StepEvent } from './events.ts';
import { defaultTrainSettings, type TrainOptions } from './options.ts';
import { Trainer } from './trainer.ts';

export interface SpamSettings {
  heldOut: number;
  trainRows: number;
  steps: number;
  lr: number;
  rank: number;
  batchSize: number;
  seqLen: number;
  seed: number;
}

export interface SpamResult {
  majority: number;
  before: number;
  after: number;
  /** The held-out evaluation of the trained adapter (src/eval), confusion matrix included. */
  report: LabelReport;
  steps: number;
  seconds: number;
  lastLoss: number | null;
}

export async function spamExperiment(gpu: Gpu, model: LoadedModel, rows: Row[], s: SpamSettings, log: (e: StepEvent | EvalEvent) => void = () => {}): Promise<SpamResult> {
  const split = splitTrainVal(rows.length, s.heldOut / rows.length, s.seed);
  const heldOut = split.val.map((i) => rows[i]);
  const pool = shuffleInPlace([...split.train], mulberry32(s.seed + 1)).slice(0, s.trainRows).map((i) => rows[i]);
  const options: TrainOptions = {
    ...defaultTrainSettings(),
    adapter: { ...defaultAdapterConfig('llama'), rank: s.rank, alpha: 2 * s.rank, dropout: 0.05, targets: 'all-linear', seed: s.seed },
    lr: s.lr, steps: s.steps, batchSize: s.batchSize, seqLen: s.seqLen, warmup: 0.05, valSplit: 0.1, evalEvery: 0, seed: s.seed,
  };
  const trainer = await Trainer.create(gpu, model, pool, options);
  const labels = ['ham', 'spam'];
  const scoreOpts = { seqLen: s.seqLen, useChatTemplate: false, batchSize: 32, padId: trainer.data.padId };
  const truth = heldOut.map((r) => r.output);
  const score = async () => labelReport(labels, truth, (await predictLabels(trainer.net, model.tokenizer, heldOut, labels, scoreOpts)).predicted);
  const before = (await score()).accuracy;
  const t0 = performance.now();
  const result = await trainer.run({ onStep: log, onEval: log });
  trainer.net.setAdapterParams(await trainer.adapterParams('best'));
  const report = await score();
  trainer.destroy();
  return { majority: report.majority.accuracy, before, after: report.accuracy, report, steps: result.steps, seconds: (performance.now() - t0) / 1000, lastLoss: result.lastLoss };
}
