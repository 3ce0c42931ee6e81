import { useStore } from '../store.ts';

/** Why the last file or column choice was refused; the loaded dataset, if any, stays as it was. */
export function DataAlert() {
  const problem = useStore((s) => s.dataProblem);
  const dataset = useStore((s) => s.dataset);
  if (!problem) return null;
  return (
    <div role="alert" className="alert" data-testid="data-alert">
      <p className="alert-title">
        {problem.file} could not be used{problem.row !== null ? ` (row ${problem.row})` : ''}
      </p>
      <p>{problem.message.charAt(0).toUpperCase() + problem.message.slice(1)}.</p>
      {dataset ? (
        <p className="hint">
          Still using <strong>{dataset.fileName}</strong> ({dataset.parsed.rows.length} rows).
        </p>
      ) : null}
    </div>
  );
}
