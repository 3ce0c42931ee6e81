import type { LabelReport } from '../../eval/report.ts';
import { useStore } from '../store.ts';

/** Rows: true label, columns: predicted label; a cell narrows the table below to its rows. */
export function ConfusionMatrix({ report, model }: { report: LabelReport; model: 'base' | 'tuned' }) {
  const filter = useStore((s) => s.compareFilter);
  const setFilter = useStore((s) => s.setCompareFilter);
  const { labels, confusion } = report;
  const chosen = (t: string, p: string) => filter !== null && 'model' in filter && filter.model === model && filter.truth === t && filter.predicted === p;
  return (
    <table className="confusion" data-testid={`confusion-${model}`}>
      <caption>{model === 'base' ? 'Base model' : 'Tuned model'}: true label (rows) against predicted label (columns)</caption>
      <thead>
        <tr>
          <th scope="col">true ↓ / predicted →</th>
          {labels.map((l) => (
            <th key={l} scope="col">
              {l}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {confusion.map((row, t) => (
          <tr key={labels[t]}>
            <th scope="row">{labels[t]}</th>
            {row.map((n, p) => (
              <td key={labels[p]} className={t === p ? 'diagonal' : n > 0 ? 'off' : ''}>
                <button
                  type="button"
                  className={chosen(labels[t], labels[p]) ? 'cell chosen' : 'cell'}
                  data-testid="confusion-cell"
                  data-truth={labels[t]}
                  data-predicted={labels[p]}
                  disabled={n === 0}
                  aria-label={`${n} rows labelled ${labels[t]} predicted ${labels[p]}: show them`}
                  onClick={() => setFilter(chosen(labels[t], labels[p]) ? null : { model, truth: labels[t], predicted: labels[p] })}
                >
                  {n}
                </button>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
