/**
 * Evaluation reports: what one adapter (or the base model) scores on a set of held-out rows, in
 * the one shape the studio shows, the run history keeps, the model card prints and
 * `tsugiki eval --json` writes (through `reportJson`).
 */
import { accuracyOf, classScores, confusionMatrix, exactMatch, macroF1, majorityBaseline, mean, rougeL, tokenF1, type ClassScores } from './metrics.ts';
import { LABEL_RULE_NAME } from './rule.ts';

export interface LabelReport {
  kind: 'labels';
  rule: string;
  labels: string[];
  rows: number;
  accuracy: number;
  macroF1: number;
  majority: { label: string; accuracy: number };
  /** confusion[t][p]: rows of true label t predicted as p (label-set order). */
  confusion: number[][];
  perClass: ClassScores[];
}

export interface TextScores {
  exactMatch: number;
  tokenF1: number;
  rougeL: number;
}

export interface TextReport extends TextScores {
  kind: 'text';
  rows: number;
  perRow: TextScores[];
}

export type EvalReport = LabelReport | TextReport;

export function labelReport(labels: readonly string[], truth: readonly string[], predicted: readonly string[]): LabelReport {
  const confusion = confusionMatrix(labels, truth, predicted);
  const perClass = classScores(labels, confusion);
  return {
    kind: 'labels',
    rule: LABEL_RULE_NAME,
    labels: [...labels],
    rows: truth.length,
    accuracy: accuracyOf(confusion),
    macroF1: macroF1(perClass),
    majority: majorityBaseline(labels, truth),
    confusion,
    perClass,
  };
}

export function textScores(prediction: string, reference: string): TextScores {
  return { exactMatch: exactMatch(prediction, reference), tokenF1: tokenF1(prediction, reference), rougeL: rougeL(prediction, reference) };
}

export function textReport(references: readonly string[], predictions: readonly string[]): TextReport {
  if (references.length !== predictions.length) throw new Error(`textReport: ${references.length} references but ${predictions.length} answers`);
  const perRow = references.map((r, i) => textScores(predictions[i], r));
  return {
    kind: 'text',
    rows: references.length,
    exactMatch: mean(perRow.map((s) => s.exactMatch)),
    tokenF1: mean(perRow.map((s) => s.tokenF1)),
    rougeL: mean(perRow.map((s) => s.rougeL)),
    perRow,
  };
}

const num = (x: number) => (Number.isFinite(x) ? x : null);

/** The report as JSON for the CLI and files (snake_case, NaN as null). */
export function reportJson(r: EvalReport): Record<string, unknown> {
  if (r.kind === 'text') return { kind: 'text', rows: r.rows, exact_match: num(r.exactMatch), token_f1: num(r.tokenF1), rouge_l: num(r.rougeL) };
  return {
    kind: 'labels',
    rule: r.rule,
    rows: r.rows,
    labels: r.labels,
    accuracy: num(r.accuracy),
    macro_f1: num(r.macroF1),
    majority_baseline: { label: r.majority.label, accuracy: num(r.majority.accuracy) },
    confusion_matrix: r.confusion,
    per_class: r.perClass.map((c) => ({ label: c.label, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support })),
  };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');

/** One line for people: the CLI's text output and the studio's summaries. */
export function reportSummary(r: EvalReport): string {
  if (r.kind === 'text') return `exact match ${pct(r.exactMatch)}, token F1 ${pct(r.tokenF1)}, ROUGE-L ${pct(r.rougeL)} on ${r.rows} rows`;
  return `accuracy ${pct(r.accuracy)} (macro-F1 ${pct(r.macroF1)}) on ${r.rows} rows; always answering '${r.majority.label}' would score ${pct(r.majority.accuracy)}`;
}

/** The numbers a model card lists, prefixed (e.g. 'tuned', 'base'). */
export function cardMetrics(r: EvalReport, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (k: string, v: number) => {
    if (Number.isFinite(v)) out[`${prefix} ${k}`] = v;
  };
  if (r.kind === 'text') {
    put('exact match', r.exactMatch);
    put('token F1', r.tokenF1);
    put('ROUGE-L', r.rougeL);
  } else {
    put('accuracy', r.accuracy);
    put('macro-F1', r.macroF1);
  }
  return out;
}

/**
 * Whether the adapter learned, in one sentence: it must beat both the base model and the
 * majority-class baseline on the same rows (accuracy alone says nothing when one label dominates).
 */
export function labelVerdict(base: LabelReport, tuned: LabelReport): { learned: boolean; sentence: string } {
  const m = tuned.majority;
  if (!(tuned.accuracy > m.accuracy)) {
    return { learned: false, sentence: `Not better than always answering “${m.label}” yet: train longer, on more rows, or check that the labels follow from the inputs.` };
  }
  if (!(tuned.accuracy > base.accuracy)) {
    return { learned: false, sentence: 'No better than the base model on these rows: the adapter has not learned the task yet.' };
  }
  return { learned: true, sentence: `The adapter learned: it beats the base model and always answering “${m.label}”.` };
}
