import { decodeDatasetText } from './decode-text.ts';
import { DataError } from './errors.ts';
import { parseDelimited } from './parse-delimited.ts';
import { jsonItems, readJsonArray, readJsonl } from './parse-json.ts';
import { dataReport, reportWarnings } from './report.ts';
import type { DataWarning, DatasetFormat, ParseOptions, ParsedDataset, Row } from './dataset.ts';

export { DataError } from './errors.ts';
export { dataReport } from './report.ts';
export type { DataReport } from './report.ts';
export type { DataWarning, DatasetFormat, ParseOptions, ParsedDataset, Row } from './dataset.ts';

type Kind = 'csv' | 'tsv' | 'jsonl' | 'json';

/** The format from the file extension, else from the content. */
function detectKind(text: string, fileName: string): Kind {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (ext === 'csv') return 'csv';
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  const head = text.trimStart();
  if (ext === 'json') {
    // a .json file holding JSON Lines
    return head.startsWith('{') && /}\s*\r?\n\s*{/.test(head.slice(0, 100_000)) ? 'jsonl' : 'json';
  }
  if (head.startsWith('[')) return 'json';
  if (head.startsWith('{')) return 'jsonl';
  const firstLine = head.split('\n', 1)[0];
  return firstLine.includes('\t') ? 'tsv' : 'csv';
}

/**
 * Parses a dataset file into rows `{input, output, messages?, line}`.
 * Formats: CSV/TSV with a header (columns found by name or given in `opts`), headerless
 * two-column TSV/CSV (the label column is the one with few distinct short values), JSONL and
 * JSON arrays of {prompt, completion}, Alpaca {instruction, input, output}, {text, label} or
 * {messages: [...]}. Throws DataError for files it refuses; returns warnings for the rest.
 */
export function parseDataset(bytes: Uint8Array, fileName: string, opts: ParseOptions = {}): ParsedDataset {
  const text = decodeDatasetText(bytes, fileName);
  const kind = detectKind(text, fileName);
  let format: DatasetFormat;
  let columns: string[];
  let inputColumn: string;
  let outputColumn: string;
  let items: Row[];
  const warnings: DataWarning[] = [];
  if (kind === 'csv' || kind === 'tsv') {
    const r = parseDelimited(text, fileName, kind === 'tsv', opts);
    ({ format, columns, inputColumn, outputColumn } = r);
    items = r.items;
    warnings.push(...r.warnings);
  } else {
    const read = kind === 'jsonl' ? readJsonl(text, fileName) : { ...readJsonArray(text, fileName), emptyLines: [] };
    const r = jsonItems(read.records, read.lines, fileName, opts);
    format = kind;
    ({ columns, inputColumn, outputColumn } = r);
    items = r.items;
    const empty = [...read.emptyLines, ...r.emptyLines].sort((a, b) => a - b);
    if (empty.length > 0) {
      warnings.push({ kind: 'empty-rows', count: empty.length, rows: empty.slice(0, 10), message: `${empty.length} empty row(s) skipped` });
    }
  }

  const rows: Row[] = [];
  for (const it of items) {
    const hasInput = it.input.length > 0 || (it.messages?.length ?? 0) > 0;
    if (!hasInput && it.output.length === 0) {
      const w = warnings.find((x) => x.kind === 'empty-rows');
      if (w) {
        w.count++;
        if (w.rows.length < 10) w.rows.push(it.line);
        w.message = `${w.count} empty row(s) skipped`;
      } else warnings.push({ kind: 'empty-rows', count: 1, rows: [it.line], message: '1 empty row(s) skipped' });
      continue;
    }
    if (it.output.length === 0) {
      throw new DataError(fileName, it.line, `the row has no output (column "${outputColumn}" is empty); fill it in or delete the row`);
    }
    if (!hasInput) {
      throw new DataError(fileName, it.line, `the row has no input (column "${inputColumn}" is empty); fill it in or delete the row`);
    }
    rows.push(it);
  }
  warnings.push(...reportWarnings(rows, dataReport(rows)));
  return { format, columns, inputColumn, outputColumn, rows, warnings };
}
