import { type CompareFilter, type CompareRow } from '../state/compareSlice.ts';
import { useStore } from '../store.ts';
import { LabelResults } from './LabelResults.tsx';
import { MarkedAnswer, TextResults } from './TextResults.tsx';

function shown(rows: CompareRow[], f: CompareFilter): CompareRow[] {
  if (f === null) return rows;
  if ('mistakes' in f) return rows.filter((r) => r.tunedPredicted !== r.expected);
  return rows.filter((r) => r.expected === f.truth && (f.model === 'base' ? r.basePredicted : r.tunedPredicted) === f.predicted);
}

function filterText(f: CompareFilter): string | null {
  if (f === null) return null;
  if ('mistakes' in f) return 'the rows the tuned model gets wrong';
  return `rows labelled “${f.truth}” that the ${f.model === 'base' ? 'base' : 'tuned'} model predicts as “${f.predicted}”`;
}

/** Held-out rows: expected answer, each model's predicted label (label tasks) and what each writes freely. */
export function CompareTable() {
  const result = useStore((s) => s.compareResult);
  const filter = useStore((s) => s.compareFilter);
  if (!result) return null;
  const labelled = result.labels !== null;
  const rows = shown(result.rows, filter);
  const narrowed = filterText(filter);
  return (
    <>
      {result.base.kind === 'labels' && result.tuned.kind === 'labels' ? <LabelResults base={result.base} tuned={result.tuned} source={result.source} /> : null}
      {result.base.kind === 'text' && result.tuned.kind === 'text' ? <TextResults base={result.base} tuned={result.tuned} source={result.source} /> : null}
      {narrowed ? (
        <p className="note" data-testid="compare-filter">
          Showing {rows.length} {narrowed}.
        </p>
      ) : null}
      <div className="table-scroll">
        <table className="preview" data-testid="compare-table">
          <caption>Rows the adapter did not train on ({result.source})</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Input</th>
              <th scope="col">Expected</th>
              {labelled ? <th scope="col">Base predicts</th> : null}
              {labelled ? <th scope="col">Tuned predicts</th> : null}
              <th scope="col">Base writes</th>
              <th scope="col">Tuned writes</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.line} data-testid="compare-row" data-expected={r.expected} data-base={r.basePredicted ?? ''} data-tuned={r.tunedPredicted ?? ''}>
                <td>{r.line}</td>
                <td>
                  <span className="cell">{r.input}</span>
                </td>
                <td>{r.expected}</td>
                {labelled ? <td className={r.basePredicted === r.expected ? 'right' : 'wrong'}>{r.basePredicted}{r.basePredicted === r.expected ? ' ✓' : ' ✗'}</td> : null}
                {labelled ? (
                  <td className={r.tunedPredicted === r.expected ? 'right' : 'wrong'} data-testid="tuned-predicted">
                    {r.tunedPredicted}
                    {r.tunedPredicted === r.expected ? ' ✓' : ' ✗'}
                  </td>
                ) : null}
                <td data-testid="base-output">{labelled ? r.base ?? <em className="hint">(not written)</em> : <MarkedAnswer text={r.base} expected={r.expected} />}</td>
                <td data-testid="tuned-output">{labelled ? r.tuned ?? <em className="hint">(not written)</em> : <MarkedAnswer text={r.tuned} expected={r.expected} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
