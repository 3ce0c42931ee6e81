import type { DataWarning, DataWarningKind, ParsedDataset } from '../../data/dataset.ts';
import { useStore } from '../store.ts';
import type { DataCheck as Check } from './useDataCheck.ts';
import { LabelChart } from './LabelChart.tsx';

const FORMAT_NAMES: Record<ParsedDataset['format'], string> = {
  csv: 'CSV',
  tsv: 'TSV',
  'tsv-headerless': 'TSV without a header row',
  jsonl: 'JSON Lines',
  json: 'JSON',
};

/** The warnings shown as a line of the check list; the others are listed below it. */
const LISTED: DataWarningKind[] = ['empty-rows', 'duplicates', 'conflicting-labels'];

function rowList(rows: number[], count: number): string {
  if (rows.length === 0) return '';
  return ` (row${rows.length > 1 ? 's' : ''} ${rows.join(', ')}${count > rows.length ? ', …' : ''})`;
}

function CheckLine({ name, warning, ok }: { name: string; warning: DataWarning | undefined; ok: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd className={warning ? 'warn' : undefined}>{warning ? `${warning.message}${rowList(warning.rows, warning.count)}` : ok}</dd>
    </>
  );
}

/** Counts and warnings about the loaded rows: what was skipped, repeated, contradictory or leaked. */
export function DataCheck({ parsed, check }: { parsed: ParsedDataset; check: Check }) {
  const hasTokenizer = useStore((s) => s.tokenizer !== null);
  const { report } = check;
  const find = (kind: DataWarningKind) => parsed.warnings.find((w) => w.kind === kind);
  const others = parsed.warnings.filter((w) => !LISTED.includes(w.kind));
  const overlap = report.overlap;
  const tokens = report.tokens;
  return (
    <div className="data-check" data-testid="data-check">
      <h3>Data check</h3>
      <dl className="facts">
        <dt>Usable rows</dt>
        <dd data-testid="row-count">
          {report.rows} ({FORMAT_NAMES[parsed.format]})
        </dd>
        <CheckLine name="Empty rows" warning={find('empty-rows')} ok="none" />
        <CheckLine name="Duplicate rows" warning={find('duplicates')} ok="none" />
        <CheckLine name="Conflicting labels (same input, different output)" warning={find('conflicting-labels')} ok="none" />
        <dt>Same input in training and validation (overlap)</dt>
        <dd className={overlap && overlap.count > 0 ? 'warn' : undefined} data-testid="overlap">
          {overlap && overlap.count > 0
            ? `${overlap.count} validation row(s) also appear in training${rowList(overlap.rows, overlap.count)}; validation scores will look better than they are`
            : 'none'}
        </dd>
        <dt>Rows too long for the sequence length</dt>
        <dd className={tokens && tokens.overLimit.count > 0 ? 'warn' : undefined}>
          {hasTokenizer && tokens
            ? tokens.overLimit.count > 0
              ? `${tokens.overLimit.count} row(s) are longer than ${check.seqLen} tokens and will be cut${rowList(tokens.overLimit.rows, tokens.overLimit.count)}; raise the sequence length in step 3 or shorten them`
              : `none (longest row: ${tokens.max} tokens, average ${tokens.mean.toFixed(0)})`
            : 'checked once a model is chosen in step 1 (it needs the model’s tokenizer)'}
        </dd>
      </dl>
      {others.length > 0 ? (
        <ul className="warnings">
          {others.map((w) => (
            <li key={w.kind} className="warn">
              {w.message}
              {rowList(w.rows, w.count)}
            </li>
          ))}
        </ul>
      ) : null}
      {report.labels ? (
        <LabelChart labels={report.labels} total={report.rows} />
      ) : (
        <p className="hint">The outputs are free text rather than a few labels, so there is no label balance to show.</p>
      )}
    </div>
  );
}
