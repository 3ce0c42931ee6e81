import Papa from 'papaparse';
import { chooseColumns, inputOf, looksLikeHeader } from './columns.ts';
import { DataError } from './errors.ts';
import type { DataWarning, ParseOptions } from './dataset.ts';

/** Records of a text table before validation: fields and the 1-based line each record starts on. */
interface Table {
  records: { fields: string[]; line: number }[];
}

/**
 * TSV is read as IANA text/tab-separated-values: one record per line, fields split on tabs,
 * quotes are ordinary characters (the SMS Spam Collection relies on that).
 */
function readTsv(text: string): Table {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { records: lines.map((l, i) => ({ fields: l.split('\t'), line: i + 1 })) };
}

/** CSV through papaparse: quoted fields with commas, quotes and newlines, CRLF, `;` or `|` delimiters. */
function readCsv(text: string, file: string): Table {
  const records: Table['records'] = [];
  let line = 1;
  let counted = 0;
  const countTo = (pos: number) => {
    for (; counted < pos; counted++) if (text.charCodeAt(counted) === 10) line++;
  };
  let start = 0;
  Papa.parse<string[]>(text, {
    header: false,
    skipEmptyLines: false,
    delimitersToGuess: [',', '\t', ';', '|'],
    step: (res) => {
      const err = res.errors.find((e) => e.type === 'Quotes');
      countTo(start);
      if (err) {
        throw new DataError(file, line, `a quoted field is not closed (${err.message}); close the quote or remove the stray " character`);
      }
      // the cursor is where the next record starts, past this record's line break
      const atEnd = start >= text.length;
      if (!atEnd) records.push({ fields: res.data, line });
      start = res.meta.cursor;
    },
  });
  return { records };
}

export interface DelimitedResult {
  format: 'csv' | 'tsv' | 'tsv-headerless';
  columns: string[];
  inputColumn: string;
  outputColumn: string;
  items: { input: string; output: string; line: number }[];
  warnings: DataWarning[];
}

const isEmptyRecord = (fields: string[]) => fields.every((f) => f.trim() === '');

/** Whether a column's values look like class labels: few distinct, short values. */
function labelLike(values: string[]): boolean {
  const distinct = new Set(values);
  const meanLen = values.reduce((a, v) => a + v.length, 0) / Math.max(values.length, 1);
  return distinct.size <= Math.max(2, Math.min(200, values.length / 5)) && meanLen <= 32;
}

export function parseDelimited(text: string, file: string, tsv: boolean, opts: ParseOptions): DelimitedResult {
  const table = tsv ? readTsv(text) : readCsv(text, file);
  const empty = table.records.filter((r) => isEmptyRecord(r.fields));
  const records = table.records.filter((r) => !isEmptyRecord(r.fields));
  const warnings: DataWarning[] = [];
  if (empty.length > 0) {
    warnings.push({ kind: 'empty-rows', count: empty.length, rows: empty.slice(0, 10).map((r) => r.line), message: `${empty.length} empty row(s) skipped` });
  }
  if (records.length === 0) throw new DataError(file, null, 'the file has no rows');

  let columns: string[];
  let body = records;
  let format: DelimitedResult['format'] = tsv ? 'tsv' : 'csv';
  const first = records[0].fields;
  // Headerless files are two-column only; a first row naming a known or requested column is a header.
  const named = [opts.inputColumn, opts.outputColumn].some((c) => c !== undefined && first.some((f) => f.trim() === c));
  const headerless = first.length === 2 && !named && !looksLikeHeader(first);
  if (!headerless) {
    columns = first.map((c) => c.trim());
    body = records.slice(1);
    if (body.length === 0) throw new DataError(file, null, 'the file has a header row but no data rows');
  } else {
    const bad = records.find((r) => r.fields.length !== 2);
    if (bad) {
      throw new DataError(
        file,
        bad.line,
        `no header row was found and this row does not have exactly two columns; add a header row naming the ` +
          `input and output columns (for example "text,label")`,
      );
    }
    columns = ['column1', 'column2'];
    format = tsv ? 'tsv-headerless' : 'csv';
  }

  let inputColumn: string;
  let outputColumn: string;
  if (headerless) {
    const pickIndex = (name: string | undefined) => (name === undefined ? -1 : ['column1', '1'].includes(name) ? 0 : ['column2', '2'].includes(name) ? 1 : -2);
    let outIdx = pickIndex(opts.outputColumn);
    const inIdx = pickIndex(opts.inputColumn);
    if (outIdx === -2 || inIdx === -2) {
      throw new DataError(file, null, 'this file has no header row; name its columns as column1 and column2 (or add a header row)');
    }
    if (outIdx < 0 && inIdx >= 0) outIdx = 1 - inIdx;
    if (outIdx < 0) {
      const a = labelLike(body.map((r) => r.fields[0].trim()));
      const b = labelLike(body.map((r) => r.fields[1].trim()));
      outIdx = a && !b ? 0 : 1;
      if (a === b) {
        warnings.push({ kind: 'columns-guessed', count: body.length, rows: [], message: 'no header row: column1 taken as input and column2 as output; choose other columns to change that (--input-column/--output-column on the command line)' });
      }
    }
    outputColumn = columns[outIdx];
    inputColumn = columns[1 - outIdx];
  } else {
    const choice = chooseColumns(columns, opts, file);
    inputColumn = choice.input;
    outputColumn = choice.output;
    const index = new Map(columns.map((c, i) => [c, i] as const));
    const items = body.map((r) => {
      if (r.fields.length > columns.length) {
        throw new DataError(
          file,
          r.line,
          `the row has ${r.fields.length} fields but the header has ${columns.length}; put fields that contain the delimiter in double quotes`,
        );
      }
      const get = (c: string) => (r.fields[index.get(c)!] ?? '').trim();
      return { input: inputOf(choice, get), output: get(choice.output), line: r.line };
    });
    return { format, columns, inputColumn, outputColumn, items, warnings };
  }
  const inIdx = columns.indexOf(inputColumn);
  const outIdx = columns.indexOf(outputColumn);
  const items = body.map((r) => ({ input: r.fields[inIdx].trim(), output: r.fields[outIdx].trim(), line: r.line }));
  return { format, columns, inputColumn, outputColumn, items, warnings };
}
