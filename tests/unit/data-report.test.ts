import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataReport, parseDataset } from '../../src/data/parse.ts';
import type { Row } from '../../src/data/parse.ts';

const rows = (pairs: [string, string][]): Row[] => pairs.map(([input, output], i) => ({ input, output, line: i + 2 }));

describe('dataReport', () => {
  it('gives the label distribution of the SMS collection, counted independently', () => {
    const url = new URL('../../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url);
    const lines = readFileSync(url, 'utf8').split('\n');
    const d = parseDataset(new Uint8Array(readFileSync(url)), 'SMSSpamCollection.tsv');
    const r = dataReport(d.rows);
    expect(r.rows).toBe(5574);
    expect(r.labels).toEqual([
      { label: 'ham', count: lines.filter((l) => l.startsWith('ham\t')).length },
      { label: 'spam', count: 747 },
    ]);
    expect(r.imbalance).toBeCloseTo(4827 / 747, 12);
    // exact duplicates, counted with a Set over the raw lines (trailing spaces trimmed as parsing does)
    const uniq = new Set(lines.map((l) => l.split('\t').map((f) => f.trim()).join('\t')));
    expect(r.duplicates.count).toBe(lines.length - uniq.size);
  });

  it('does not call free-text outputs labels', () => {
    const r = dataReport(rows([['a', 'one long answer'], ['b', 'another answer'], ['c', 'third']]));
    expect(r.labels).toBeNull();
    expect(r.imbalance).toBeNull();
  });

  it('finds duplicates, conflicting labels, long rows and train/validation overlap', () => {
    const data = rows([
      ['hello', 'greet'],
      ['bye', 'leave'],
      ['hello', 'greet'],
      ['hello', 'leave'],
      ['new', 'greet'],
    ]);
    const r = dataReport(data, (row) => row.input.length, { seqLen: 4, split: { train: [0, 1], val: [2, 4] } });
    expect(r.duplicates).toEqual({ count: 1, rows: [4] });
    expect(r.conflicting).toEqual({ count: 1, rows: [5] });
    expect(r.tokens).toEqual({ total: 5 + 3 + 5 + 5 + 3, mean: 21 / 5, max: 5, overLimit: { count: 3, rows: [2, 4, 5] } });
    expect(r.overlap).toEqual({ count: 1, rows: [4] }); // val row 2 ("hello") is in train; row 4 ("new") is not
  });
});
