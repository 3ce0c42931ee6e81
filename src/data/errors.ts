/**
 * A dataset the studio refuses. `file` is the file name, `row` the 1-based line (CSV/TSV/JSONL)
 * or record (JSON array) number as the user sees it, or null when the whole file is at fault.
 * The message says what was wrong and what to do.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  readonly file: string;
  readonly row: number | null;

  constructor(file: string, row: number | null, message: string) {
    super(row === null ? `${file}: ${message}` : `${file}, row ${row}: ${message}`);
    this.file = file;
    this.row = row;
  }
}
