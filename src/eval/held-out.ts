/**
 * The base model and the tuned one on the same held-out rows, by the same rule: the network is
 * scored with the adapter at strength 0 (the base model exactly: the LoRA term is scaled to 0)
 * and at the tuned strength, then both predictions become reports.
 */
import type { Row } from '../data/dataset.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { Network } from '../model/network.ts';
import { labelReport, type LabelReport } from './report.ts';
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
