/**
 * The base model and the tuned one on the same held-out rows, by the same rule: the network is
 * scored with the adapter at strength 0 (the base model exactly: the LoRA term is scaled to 0)
 * and at the tuned strength, then both predictions become reports.
 */

/** A run's final evaluation: the kept adapter (of `step`) and the base model on the held-out rows. */
export interface HeldOutEvaluation {
  step: number;
  base: EvalReport;
  tuned: EvalReport;
  /** Per row: the predicted label (label tasks) or the written answer (free text). */
  baseAnswers: string[];
  tunedAnswers: string[];
}
import type { Row } from '../data/dataset.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { LoadedModel } from '../model/load-source.ts';
import type { Network } from '../model/network.ts';
import { writeAnswer } from './answers.ts';
import { labelReport, textReport, type EvalReport, type LabelReport, type TextReport } from './report.ts';
import { predictLabels, type ScoreOptions } from './score.ts';

export interface LabelComparison {
  labels: string[];
  /** Predicted label per row: base model, tuned model. */
  base: string[];
  tuned: string[];
  baseReport: LabelReport;
  tunedReport: LabelReport;
}

export async function compareLabelPredictions(
  net: Network,
  tokenizer: Tokenizer,
  rows: readonly Row[],
  labels: readonly string[],
  o: ScoreOptions,
  tunedStrength = 1,
): Promise<LabelComparison> {
  const before = net.adapterStrength;
  try {
    net.adapterStrength = 0;
    const base = (await predictLabels(net, tokenizer, rows, labels, o)).predicted;
    net.adapterStrength = tunedStrength;
    const tuned = (await predictLabels(net, tokenizer, rows, labels, o)).predicted;
    const truth = rows.map((r) => r.output);
    return { labels: [...labels], base, tuned, baseReport: labelReport(labels, truth, base), tunedReport: labelReport(labels, truth, tuned) };
  } finally {
    net.adapterStrength = before;
  }
}

/** Free-text tasks: held-out rows answered at the end of a run (each answer is generated). */
export const TEXT_EVAL_ROWS = 32;
/** Free-text tasks: the longest answer written at the end of a run (greedy). */
export const TEXT_EVAL_TOKENS = 48;

export interface TextComparison {
  base: string[];
  tuned: string[];
  baseReport: TextReport;
  tunedReport: TextReport;
}

/** What the base model (strength 0) and the tuned one write for each row, greedy, scored against the rows' outputs. */
export async function compareTextAnswers(
  net: Network,
  model: LoadedModel,
  rows: readonly Row[],
  o: { useChatTemplate: boolean; maxNewTokens: number; maxSeq: number },
  tunedStrength = 1,
): Promise<TextComparison> {
  const before = net.adapterStrength;
  const sampling = { maxNewTokens: o.maxNewTokens, temperature: 0, seed: 0 };
  const write = async (strength: number) => {
    net.adapterStrength = strength;
    const out: string[] = [];
    for (const row of rows) out.push(await writeAnswer(net, model, row, o.useChatTemplate, sampling, o.maxSeq));
    return out;
  };
  try {
    const base = await write(0);
    const tuned = await write(tunedStrength);
    const truth = rows.map((r) => r.output);
    return { base, tuned, baseReport: textReport(truth, base), tunedReport: textReport(truth, tuned) };
  } finally {
    net.adapterStrength = before;
  }
}
