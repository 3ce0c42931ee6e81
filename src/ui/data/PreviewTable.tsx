import { useMemo } from 'react';
import type { LoadedDataset } from '../state/dataSlice.ts';
import { previewRecords } from './preview.ts';

const PREVIEW_ROWS = 6;

/** The first rows of the file with every column; the input and output columns are marked. */
export function PreviewTable({ dataset }: { dataset: LoadedDataset }) {
  const { parsed } = dataset;
  const table = useMemo(() => previewRecords(dataset.bytes, parsed, PREVIEW_ROWS), [dataset.bytes, parsed]);
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-labelledby="preview-caption">
      <table className="preview" data-testid="preview-table">
        <caption id="preview-caption">First {table.rows.length} rows of {dataset.fileName}</caption>
        <thead>
          <tr>
            {table.columns.map((c, j) => {
              const r = table.roles[j];
              return (
                <th key={c} scope="col" className={r ? `col-${r}` : undefined}>
                  {c}
                  {r ? <span className="col-tag">{r}</span> : null}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, i) => (
            <tr key={i}>
              {row.map((v, j) => {
                const r = table.roles[j];
                return (
                  <td key={j} className={r ? `col-${r}` : undefined}>
                    <span className="cell">{v}</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
