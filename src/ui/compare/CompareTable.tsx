import { sameAnswer } from '../state/compareSlice.ts';
import { useStore } from '../store.ts';

/** Held-out rows: input, expected answer, base and tuned answers, and whether each is right. */
export function CompareTable() {
  const rows = useStore((s) => s.compareRows);
  const labels = useStore((s) => s.compareLabels);
  if (!rows) return null;
  const scored = labels !== null;
  const baseRight = rows.filter((r) => sameAnswer(r.base, r.expected)).length;
  const tunedRight = rows.filter((r) => sameAnswer(r.tuned, r.expected)).length;
  return (
    <>
      {scored ? (
        <p data-testid="compare-accuracy">
          Correct on these {rows.length} held-out rows: base model {baseRight} of {rows.length}, tuned model <strong>{tunedRight}</strong> of {rows.length}.
        </p>
      ) : null}
      <div className="table-scroll">
        <table className="preview" data-testid="compare-table">
          <caption>Rows the adapter did not train on (the validation rows of step 2)</caption>
          <thead>
            <tr>
              <th scope="col">Input</th>
              <th scope="col">Expected</th>
              <th scope="col">Base model</th>
              <th scope="col">Tuned model</th>
              {scored ? <th scope="col">Tuned correct?</th> : null}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>
                  <span className="cell">{r.input}</span>
                </td>
                <td>{r.expected}</td>
                <td data-testid="base-output">{r.base || <em className="hint">(nothing)</em>}</td>
                <td data-testid="tuned-output">{r.tuned || <em className="hint">(nothing)</em>}</td>
                {scored ? <td>{sameAnswer(r.tuned, r.expected) ? '✓ yes' : '✗ no'}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
