import type { DataWarning, Row } from './dataset.ts';

/** Outputs count as class labels when there are at most this many distinct values… */
export const LABEL_MAX_DISTINCT = 100;
/** …and at least this share of rows carries a value that other rows share. */
export const LABEL_MIN_SHARED = 0.9;
/** A label distribution whose largest class is this many times the smallest is imbalanced. */
export const IMBALANCE_RATIO = 5;
/** Rows longer than this many characters (input + output) are flagged before tokenization. */
export const LONG_ROW_CHARS = 4000;

const MAX_LISTED = 10;

export interface LabelCount {
  label: string;
  count: number;
}

export interface DataReport {
  rows: number;
  /** Rows repeating an earlier row exactly (same input and output). */
  duplicates: { count: number; rows: number[] };
  /** Rows whose input appeared earlier with a different output. */
  conflicting: { count: number; rows: number[] };
  /** The label distribution (most frequent first) when outputs look like labels, else null. */
  labels: LabelCount[] | null;
  /** Largest over smallest label count, when outputs are labels. */
  imbalance: number | null;
  /** Token statistics, when a token counter was given. */
  tokens: { total: number; mean: number; max: number; overLimit: { count: number; rows: number[] } } | null;
  /** Validation rows whose input also appears in the training rows, when a split was given. */
  overlap: { count: number; rows: number[] } | null;
}

const rowKey = (r: Row) => (r.messages ? JSON.stringify(r.messages) : r.input);

/** The label distribution when outputs look like labels (few distinct values shared by most rows). */
export function labelDistribution(rows: Row[]): LabelCount[] | null {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.output, (counts.get(r.output) ?? 0) + 1);
  if (rows.length < 2 || counts.size > LABEL_MAX_DISTINCT || counts.size > rows.length / 2) return null;
  let shared = 0;
  for (const c of counts.values()) if (c > 1) shared += c;
  if (shared < LABEL_MIN_SHARED * rows.length) return null;
  return [...counts].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
}

export interface ReportOptions {
  /** Sequence length the rows must fit in (with tokenCount). */
  seqLen?: number;
  /** A train/validation split (row indices) to check for leakage. */
  split?: { train: number[]; val: number[] };
}

/**
 * Counts, duplicates, label distribution and, when given, token lengths and train/validation
 * overlap. `tokenCount(row)` is the number of tokens of the encoded example.
 */
export function dataReport(rows: Row[], tokenCount?: (row: Row) => number, opts: ReportOptions = {}): DataReport {
  const dup: number[] = [];
  const conflict: number[] = [];
  const seenPair = new Set<string>();
  const seenInput = new Map<string, string>();
  for (const r of rows) {
    const key = rowKey(r);
    const pair = key + '\u0000' + r.output;
    if (seenPair.has(pair)) dup.push(r.line);
    else if (seenInput.has(key) && seenInput.get(key) !== r.output) conflict.push(r.line);
    seenPair.add(pair);
    if (!seenInput.has(key)) seenInput.set(key, r.output);
  }
  const labels = labelDistribution(rows);
  const imbalance = labels && labels.length > 1 ? labels[0].count / labels[labels.length - 1].count : null;

  let tokens: DataReport['tokens'] = null;
  if (tokenCount) {
    let total = 0;
    let max = 0;
    const over: number[] = [];
    for (const r of rows) {
      const n = tokenCount(r);
      total += n;
      max = Math.max(max, n);
      if (opts.seqLen !== undefined && n > opts.seqLen) over.push(r.line);
    }
    tokens = { total, mean: rows.length ? total / rows.length : 0, max, overLimit: { count: over.length, rows: over.slice(0, MAX_LISTED) } };
  }

  let overlap: DataReport['overlap'] = null;
  if (opts.split) {
    const trainInputs = new Set(opts.split.train.map((i) => rowKey(rows[i])));
    const leaked = opts.split.val.filter((i) => trainInputs.has(rowKey(rows[i]))).map((i) => rows[i].line);
    overlap = { count: leaked.length, rows: leaked.slice(0, MAX_LISTED) };
  }
  return {
    rows: rows.length,
    duplicates: { count: dup.length, rows: dup.slice(0, MAX_LISTED) },
    conflicting: { count: conflict.length, rows: conflict.slice(0, MAX_LISTED) },
    labels,
    imbalance,
    tokens,
    overlap,
  };
}

const pct = (n: number, total: number) => `${((100 * n) / total).toFixed(1)}%`;

/** The warnings a report implies (duplicates, conflicting labels, imbalance, very long rows). */
export function reportWarnings(rows: Row[], report: DataReport): DataWarning[] {
  const w: DataWarning[] = [];
  if (report.duplicates.count > 0) {
    w.push({ kind: 'duplicates', count: report.duplicates.count, rows: report.duplicates.rows, message: `${report.duplicates.count} row(s) repeat an earlier row exactly; remove them or they weigh more in training` });
  }
  if (report.conflicting.count > 0) {
    w.push({ kind: 'conflicting-labels', count: report.conflicting.count, rows: report.conflicting.rows, message: `${report.conflicting.count} row(s) repeat an earlier input with a different output` });
  }
  if (report.labels && report.imbalance !== null && report.imbalance >= IMBALANCE_RATIO) {
    const big = report.labels[0];
    const small = report.labels[report.labels.length - 1];
    w.push({
      kind: 'label-imbalance',
      count: rows.length,
      rows: [],
      message: `labels are imbalanced: "${big.label}" has ${big.count} rows (${pct(big.count, rows.length)}), "${small.label}" ${small.count} (${pct(small.count, rows.length)}); accuracy alone will look better than the model is`,
    });
  }
  const long = rows.filter((r) => r.input.length + r.output.length > LONG_ROW_CHARS);
  if (long.length > 0) {
    w.push({ kind: 'long-rows', count: long.length, rows: long.slice(0, MAX_LISTED).map((r) => r.line), message: `${long.length} row(s) are longer than ${LONG_ROW_CHARS} characters and will likely be truncated to the sequence length` });
  }
  return w;
}
