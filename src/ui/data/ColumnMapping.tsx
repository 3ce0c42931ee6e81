import type { ParsedDataset } from '../../data/parse.ts';
import { useStore } from '../store.ts';

/** Options for one select: the file's columns, plus a combined shape (Alpaca) the parser chose. */
function options(parsed: ParsedDataset, chosen: string): { value: string; label: string }[] {
  const list = parsed.columns.map((c) => ({ value: c, label: c }));
  if (!parsed.columns.includes(chosen)) list.unshift({ value: chosen, label: `${chosen.replace('+', ' + ')} (combined)` });
  return list;
}

/** Which column the model reads (input) and which it learns to write (output). */
export function ColumnMapping({ parsed }: { parsed: ParsedDataset }) {
  const mapColumns = useStore((s) => s.mapColumns);
  if (parsed.inputColumn === 'messages') {
    return <p>Chat conversations: the model reads each conversation and learns to write its last assistant reply.</p>;
  }
  const real = (c: string) => (parsed.columns.includes(c) ? c : undefined);
  return (
    <div className="column-mapping">
      <div className="field">
        <label htmlFor="input-column">Input column (what the model reads)</label>
        <select id="input-column" value={parsed.inputColumn} onChange={(e) => mapColumns(real(e.target.value), real(parsed.outputColumn))}>
          {options(parsed, parsed.inputColumn).map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <span aria-hidden="true" className="arrow">
        →
      </span>
      <div className="field">
        <label htmlFor="output-column">Output column (what it should answer)</label>
        <select id="output-column" value={parsed.outputColumn} onChange={(e) => mapColumns(real(parsed.inputColumn), real(e.target.value))}>
          {options(parsed, parsed.outputColumn).map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}
