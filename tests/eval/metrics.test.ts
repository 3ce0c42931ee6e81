import { describe, expect, it } from 'vitest';
import { classScores, confusionMatrix, exactMatch, lcsLength, lcsMarks, macroF1, majorityBaseline, normalizeAnswer, rougeL, tokenF1 } from '../../src/eval/metrics.ts';
import { labelReport, labelVerdict, reportJson, textReport } from '../../src/eval/report.ts';
import { pickLabel } from '../../src/eval/rule.ts';

describe('label metrics against values computed by hand', () => {
  // 10 rows over three labels
  const labels = ['ham', 'spam', 'other'];
  const truth = ['ham', 'ham', 'ham', 'ham', 'ham', 'spam', 'spam', 'spam', 'other', 'other'];
  const pred = ['ham', 'ham', 'ham', 'spam', 'other', 'spam', 'spam', 'ham', 'ham', 'other'];

  it('confusion matrix: rows are the true label, columns the prediction', () => {
    expect(confusionMatrix(labels, truth, pred)).toEqual([
      [3, 1, 1],
      [1, 2, 0],
      [1, 0, 1],
    ]);
  });

  it('precision, recall, F1 per class, macro-F1, accuracy and the majority baseline', () => {
    const r = labelReport(labels, truth, pred);
    // ham: tp 3, predicted 5, support 5 → P 3/5, R 3/5, F1 0.6
    // spam: tp 2, predicted 3, support 3 → P 2/3, R 2/3, F1 2/3
    // other: tp 1, predicted 2, support 2 → P 1/2, R 1/2, F1 1/2
    const [ham, spam, other] = r.perClass;
    expect([ham.precision, ham.recall, ham.f1]).toEqual([0.6, 0.6, 0.6]);
    expect(spam.precision).toBeCloseTo(2 / 3, 15);
    expect(spam.f1).toBeCloseTo(2 / 3, 15);
    expect([other.precision, other.recall, other.f1, other.support]).toEqual([0.5, 0.5, 0.5, 2]);
    expect(r.macroF1).toBeCloseTo((0.6 + 2 / 3 + 0.5) / 3, 15);
    expect(r.accuracy).toBe(0.6); // 3 + 2 + 1 of 10
    expect(r.majority).toEqual({ label: 'ham', accuracy: 0.5 });
    const j = reportJson(r) as { confusion_matrix: number[][]; macro_f1: number };
    expect(j.confusion_matrix).toEqual(r.confusion);
    expect(j.macro_f1).toBe(r.macroF1);
  });

  it('a class never predicted has precision 0 (no division by zero); labels absent from both sides leave macro-F1 alone', () => {
    const s = classScores(['a', 'b', 'c'], confusionMatrix(['a', 'b', 'c'], ['a', 'b', 'b'], ['a', 'a', 'a']));
    expect(s[1]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 2 });
    // a: P 1/3, R 1, F1 0.5; b: 0; c never appears: macro over a and b
    expect(macroF1(s)).toBeCloseTo(0.25, 15);
    expect(majorityBaseline(['a', 'b'], ['a', 'b'])).toEqual({ label: 'a', accuracy: 0.5 }); // ties: first label
    expect(() => confusionMatrix(['a'], ['z'], ['a'])).toThrow(/'z' is not in the label set/);
  });

  it('says the adapter learned only when it beats the base model and the majority class', () => {
    const L = ['ham', 'spam'];
    const truth = ['ham', 'ham', 'ham', 'spam'];
    const all = (p: string) => truth.map(() => p);
    // the SMS case: tuned = base = always "ham" (75%)
    expect(labelVerdict(labelReport(L, truth, all('ham')), labelReport(L, truth, all('ham')))).toEqual({ learned: false, sentence: expect.stringMatching(/^Not better than always answering “ham” yet/) });
    expect(labelVerdict(labelReport(L, truth, truth), labelReport(L, truth, truth)).sentence).toMatch(/^No better than the base model/);
    expect(labelVerdict(labelReport(L, truth, all('ham')), labelReport(L, truth, truth)).learned).toBe(true);
  });

  it('the likeliest label has the lowest summed loss; ties go to the first; NaN never wins', () => {
    expect(pickLabel([2.5, 1.5, 1.5], 0, 3)).toBe(1);
    expect(pickLabel([9, 9, Number.NaN, 0.1], 2, 2)).toBe(1);
    expect(pickLabel([Number.NaN, 3], 0, 2)).toBe(1);
  });
});

describe('free-text metrics (SQuAD normalisation, ROUGE-L by LCS)', () => {
  it('normalises case, punctuation, articles and spaces', () => {
    expect(normalizeAnswer('  The Eiffel-Tower, in   PARIS! ')).toBe('eiffel tower in paris');
    expect(exactMatch('the cat.', 'Cat')).toBe(1);
    expect(exactMatch('a cat', 'dog')).toBe(0);
  });

  it('token F1 counts shared tokens with their multiplicity', () => {
    // pred: red red ball (3), ref: red ball is round (4); shared: red, ball → P 2/3, R 2/4 → F1 4/7
    expect(tokenF1('red red ball', 'a red ball is round')).toBeCloseTo(4 / 7, 15);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('x', '')).toBe(0);
  });

  it('ROUGE-L is the F-measure of the longest common subsequence', () => {
    expect(lcsLength(['a', 'b', 'c', 'd'], ['b', 'd', 'c'])).toBe(2);
    // pred: police killed gunman (3), ref: police kill the gunman → tokens police kill gunman (3); LCS police gunman = 2
    expect(rougeL('police killed the gunman', 'police kill the gunman')).toBeCloseTo(2 / 3, 15);
    expect(lcsMarks(['x', 'b', 'c'], ['b', 'y', 'c'])).toEqual([false, true, true]);
    const r = textReport(['the cat sat', 'blue'], ['cat sat', 'red']);
    expect(r.exactMatch).toBe(0.5);
    expect(r.tokenF1).toBe(0.5);
    expect(r.rougeL).toBe(0.5);
  });
});
