import Papa from 'papaparse';
import type { ParsedDataset } from '../../data/parse.ts';

export type ColumnRole = 'input' | 'output' | null;

export interface PreviewTable {
  columns: string[];
  /** Per column: whether it is (part of) the input, the output, or neither. */
  roles: ColumnRole[];
  /** The first records of the file as written, one cell per column (objects as JSON). */
  rows: string[][];
}

const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Alpaca inputs are "instruction+input": both columns are marked as input. */
function rolesOf(parsed: ParsedDataset): ColumnRole[] {
  const inputs = new Set(parsed.inputColumn.split('+'));
  return parsed.columns.map((c) => (c === parsed.outputColumn ? 'output' : inputs.has(c) ? 'input' : null));
}

/**
 * The first `n` records of a dataset file with all its columns, for the preview table.
 * `parseDataset` keeps only input and output; the preview shows what else the file holds.
 */
export function previewRecords(bytes: Uint8Array, parsed: ParsedDataset, n: number): PreviewTable {
  const text = new TextDecoder().decode(bytes.subarray(0, 256 * 1024)).replace(/^\uFEFF/, '');
  const { columns } = parsed;
  if (parsed.format === 'json' || parsed.format === 'jsonl') {
    // JSONL: the first records as written; a JSON array (or a record that does not parse) shows the parsed rows.
    const records: Record<string, unknown>[] = [];
    if (parsed.format === 'jsonl') {
      for (const line of text.split('\n')) {
        if (records.length >= n) break;
        if (line.trim() === '') continue;
        try {
          records.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          break;
        }
      }
    }
    if (records.length === 0) {
      return { columns: ['input', 'output'], roles: ['input', 'output'], rows: parsed.rows.slice(0, n).map((r) => [r.input, r.output]) };
    }
    return { columns, roles: rolesOf(parsed), rows: records.map((rec) => columns.map((c) => cell(rec[c]))) };
  }
  const result = Papa.parse<string[]>(text, { preview: n + 1, skipEmptyLines: true, delimiter: parsed.format === 'csv' ? '' : '\t' });
  const body = parsed.format === 'tsv-headerless' || columns[0] === 'column1' ? result.data.slice(0, n) : result.data.slice(1, n + 1);
  return { columns, roles: rolesOf(parsed), rows: body.map((r) => columns.map((_, i) => r[i] ?? '')) };
}
