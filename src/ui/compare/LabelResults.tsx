import { labelVerdict, type LabelReport } from '../../eval/report.ts';
import { LABEL_RULE_SENTENCE } from '../../eval/rule.ts';
import { useStore } from '../store.ts';
import { ConfusionMatrix } from './ConfusionMatrix.tsx';

export const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');
const score = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const correct = (r: LabelReport) => r.confusion.reduce((a, row, k) => a + row[k], 0);

/** Base against tuned on the held-out rows: accuracy, macro-F1, the majority baseline, confusion matrices, per-class scores. */
export function LabelResults({ base, tuned, source }: { base: LabelReport; tuned: LabelReport; source: string }) {
  const setFilter = useStore((s) => s.setCompareFilter);
  const mistakes = tuned.rows - correct(tuned);
  return (
    <div className="label-results">
      <p data-testid="compare-accuracy">
        On {source} ({tuned.rows} rows): tuned model right on <strong>{correct(tuned)} of {tuned.rows}</strong> ({pct(tuned.accuracy)}, macro-F1 {score(tuned.macroF1)}), base model {correct(base)} of{' '}
        {base.rows} ({pct(base.accuracy)}, macro-F1 {score(base.macroF1)}). Always answering “{tuned.majority.label}” would be right on {pct(tuned.majority.accuracy)}.
      </p>
      <p className={labelVerdict(base, tuned).learned ? 'ok' : 'warn'} data-testid="compare-verdict">
        {labelVerdict(base, tuned).sentence}
      </p>
      <p className="hint" data-testid="label-rule">
        {LABEL_RULE_SENTENCE} Training reports its accuracy by the same rule on the same rows.
      </p>
      <div className="side-by-side">
        <ConfusionMatrix report={base} model="base" />
        <ConfusionMatrix report={tuned} model="tuned" />
      </div>
      <table className="preview class-scores" data-testid="class-scores">
        <caption>Per label: precision (of the rows predicted as it, how many are), recall (of the rows that are it, how many are found), F1</caption>
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col">Rows</th>
            <th scope="col">Base P / R / F1</th>
            <th scope="col">Tuned P / R / F1</th>
          </tr>
        </thead>
        <tbody>
          {tuned.perClass.map((c, k) => {
            const b = base.perClass[k];
            return (
              <tr key={c.label}>
                <th scope="row">{c.label}</th>
                <td>{c.support}</td>
                <td>
                  {score(b.precision)} / {score(b.recall)} / {score(b.f1)}
                </td>
                <td>
                  {score(c.precision)} / {score(c.recall)} / {score(c.f1)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="button-row">
        <button type="button" className="secondary" disabled={mistakes === 0} onClick={() => setFilter({ mistakes: 'tuned' })}>
          Show the tuned model’s {mistakes} mistake{mistakes === 1 ? '' : 's'}
        </button>
        <button type="button" className="secondary" onClick={() => setFilter(null)}>
          Show every row
        </button>
      </div>
    </div>
  );
}
