import { DataError } from './errors.ts';
import type { ParseOptions } from './dataset.ts';

/** Column names recognised as the input, in order of preference (case-insensitive). */
export const INPUT_NAMES = ['prompt', 'input', 'text', 'question', 'instruction', 'sentence', 'message'];
/** Column names recognised as the output, in order of preference (case-insensitive). */
export const OUTPUT_NAMES = ['completion', 'output', 'label', 'response', 'answer', 'category'];

const norm = (s: string) => s.trim().toLowerCase();

/** Whether a header row names at least one known column. */
export function looksLikeHeader(fields: string[]): boolean {
  return fields.some((f) => INPUT_NAMES.includes(norm(f)) || OUTPUT_NAMES.includes(norm(f)));
}

function pick(columns: string[], wanted: string | undefined, names: string[], exclude: string | null): string | null {
  if (wanted !== undefined) return columns.find((c) => c === wanted) ?? columns.find((c) => norm(c) === norm(wanted)) ?? null;
  for (const name of names) {
    const found = columns.find((c) => norm(c) === name && c !== exclude);
    if (found !== undefined) return found;
  }
  return null;
}

export interface ColumnChoice {
  input: string;
  output: string;
  /** Alpaca layout: input = instruction + "\n\n" + input (when non-empty). */
  alpaca: { instruction: string; input: string } | null;
}

/**
 * Chooses the input and output columns among `columns`, from the options or the known names.
 * Alpaca layouts (instruction, input, output) combine instruction and input.
 */
export function chooseColumns(columns: string[], opts: ParseOptions, file: string): ColumnChoice {
  const has = (n: string) => columns.find((c) => norm(c) === n);
  const instruction = has('instruction');
  const alpacaInput = has('input');
  if (opts.inputColumn === undefined && instruction && alpacaInput) {
    const output = pick(columns, opts.outputColumn, OUTPUT_NAMES, null);
    if (output) return { input: `${instruction}+${alpacaInput}`, output, alpaca: { instruction, input: alpacaInput } };
  }
  const output = pick(columns, opts.outputColumn, OUTPUT_NAMES, null);
  const input = pick(columns, opts.inputColumn, INPUT_NAMES, output);
  const found = columns.length > 0 ? columns.map((c) => `"${c}"`).join(', ') : 'none';
  if (opts.inputColumn !== undefined && input === null) {
    throw new DataError(file, null, `there is no column "${opts.inputColumn}" (columns found: ${found}); choose one of them as the input column (--input-column on the command line)`);
  }
  if (opts.outputColumn !== undefined && output === null) {
    throw new DataError(file, null, `there is no column "${opts.outputColumn}" (columns found: ${found}); choose one of them as the output column (--output-column on the command line)`);
  }
  if (input === null || output === null) {
    const missing = input === null ? 'input' : 'output';
    const names = input === null ? INPUT_NAMES : OUTPUT_NAMES;
    throw new DataError(
      file,
      null,
      `no ${missing} column found (columns found: ${found}; recognised ${missing} names: ${names.join(', ')}); ` +
        `rename the column or choose the ${missing} column yourself (--${missing}-column NAME on the command line)`,
    );
  }
  if (input === output) {
    throw new DataError(file, null, `input and output are the same column "${input}"; choose two different columns`);
  }
  return { input, output, alpaca: null };
}

/** The input text of one record under a column choice. */
export function inputOf(choice: ColumnChoice, get: (column: string) => string): string {
  if (!choice.alpaca) return get(choice.input);
  const instruction = get(choice.alpaca.instruction);
  const extra = get(choice.alpaca.input);
  return extra.trim().length > 0 ? `${instruction}\n\n${extra}` : instruction;
}
