/**
 * Evaluation metrics as pure functions (no GPU, no model): what the studio, `tsugiki eval`, the
 * model card and the bench all report.
 *
 * Label tasks: accuracy, the confusion matrix (rows = true label, columns = predicted label, in
 * the order of the label set), per-class precision / recall / F1, macro-F1 (the unweighted mean of
 * the per-class F1 over the labels present in the truth or the predictions) and the
 * majority-class baseline (always answering the most frequent true label).
 *
 * Free-text tasks: exact match, token F1 and ROUGE-L, all on answers normalised as SQuAD's
 * official script does (`normalizeAnswer`): lowercase, punctuation removed, the English articles
 * a / an / the removed, whitespace collapsed. Token F1 is SQuAD's (bag-of-tokens overlap);
 * ROUGE-L is the F-measure (β = 1) of the longest common subsequence of the tokens.
 */

/** SQuAD's answer normalisation: lowercase, no punctuation, no articles, single spaces. */
export function normalizeAnswer(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function answerTokens(s: string): string[] {
  const n = normalizeAnswer(s);
  return n === '' ? [] : n.split(' ');
}

/** 1 when the normalised answers are equal, else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
}

/** SQuAD token F1: overlap of the token multisets; 1 when both are empty, 0 when one is. */
export function tokenF1(prediction: string, reference: string): number {
  const p = answerTokens(prediction);
  const r = answerTokens(reference);
  if (p.length === 0 || r.length === 0) return p.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of r) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      common++;
      counts.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Length of the longest common subsequence of two token lists (dynamic programming, O(n·m)). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** For each token of `a`, whether it is part of one longest common subsequence with `b` (marks what differs). */
export function lcsMarks(a: readonly string[], b: readonly string[]): boolean[] {
  const n = a.length;
  const m = b.length;
  const L = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const keep = new Array<boolean>(n).fill(false);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      keep[i] = true;
      i++;
      j++;
    } else if (L[i + 1][j] >= L[i][j + 1]) i++;
    else j++;
  }
  return keep;
}

/** ROUGE-L F-measure (β = 1) over normalised tokens; 1 when both are empty, 0 when one is. */
export function rougeL(prediction: string, reference: string): number {
  const p = answerTokens(prediction);
  const r = answerTokens(reference);
  if (p.length === 0 || r.length === 0) return p.length === r.length ? 1 : 0;
  const lcs = lcsLength(p, r);
  if (lcs === 0) return 0;
  const precision = lcs / p.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** counts[t][p]: rows whose true label is labels[t] and predicted label labels[p]. */
export function confusionMatrix(labels: readonly string[], truth: readonly string[], predicted: readonly string[]): number[][] {
  if (truth.length !== predicted.length) throw new Error(`confusionMatrix: ${truth.length} true labels but ${predicted.length} predictions`);
  const index = new Map(labels.map((l, i) => [l, i]));
  const m = labels.map(() => labels.map(() => 0));
  truth.forEach((t, r) => {
    const ti = index.get(t);
    const pi = index.get(predicted[r]);
    if (ti === undefined) throw new Error(`confusionMatrix: row ${r + 1}'s true label '${t}' is not in the label set (${labels.join(', ')})`);
    if (pi === undefined) throw new Error(`confusionMatrix: row ${r + 1}'s prediction '${predicted[r]}' is not in the label set (${labels.join(', ')})`);
    m[ti][pi]++;
  });
  return m;
}

export interface ClassScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** True rows of this label. */
  support: number;
  /** Rows predicted as this label. */
  predicted: number;
}

/** Per-class precision, recall, F1 from a confusion matrix; 0 where a ratio has nothing to divide (scikit-learn's zero_division=0). */
export function classScores(labels: readonly string[], matrix: readonly (readonly number[])[]): ClassScores[] {
  return labels.map((label, k) => {
    const tp = matrix[k][k];
    const support = matrix[k].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[k], 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support, predicted };
  });
}

/** Unweighted mean F1 over the classes that occur in the truth or the predictions (scikit-learn's average='macro' on the labels seen). */
export function macroF1(scores: readonly ClassScores[]): number {
  const seen = scores.filter((s) => s.support > 0 || s.predicted > 0);
  return seen.length === 0 ? Number.NaN : seen.reduce((a, s) => a + s.f1, 0) / seen.length;
}

export function accuracyOf(matrix: readonly (readonly number[])[]): number {
  const total = matrix.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  return total === 0 ? Number.NaN : matrix.reduce((a, row, k) => a + row[k], 0) / total;
}

/** The most frequent true label (the first of the label set on ties) and the accuracy of always answering it. */
export function majorityBaseline(labels: readonly string[], truth: readonly string[]): { label: string; accuracy: number } {
  const counts = labels.map((l) => truth.filter((t) => t === l).length);
  let best = 0;
  counts.forEach((c, k) => {
    if (c > counts[best]) best = k;
  });
  return { label: labels[best], accuracy: truth.length === 0 ? Number.NaN : counts[best] / truth.length };
}

const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
export { mean };
