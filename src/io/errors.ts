/**
 * The one error class the file-format readers throw. `file` names the file (or the place the
 * bytes came from); the message says what was wrong, where in the file, and what to do.
 */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  readonly file: string;

  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.file = file;
  }
}
