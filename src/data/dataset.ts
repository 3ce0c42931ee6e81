import type { ChatMessage } from './tokenizer.ts';

/** One training example. */
export interface Row {
  input: string;
  output: string;
  /** Chat rows: the conversation before the final assistant reply (which is `output`). */
  messages?: ChatMessage[];
  /** 1-based line (CSV/TSV/JSONL) or record (JSON array) number in the source file. */
  line: number;
}

export type DatasetFormat = 'csv' | 'tsv' | 'tsv-headerless' | 'jsonl' | 'json';

export type DataWarningKind = 'empty-rows' | 'duplicates' | 'conflicting-labels' | 'label-imbalance' | 'long-rows' | 'columns-guessed';

export interface DataWarning {
  kind: DataWarningKind;
  message: string;
  /** How many rows it concerns. */
  count: number;
  /** The first few affected rows (1-based line numbers), for the preview. */
  rows: number[];
}

export interface ParsedDataset {
  format: DatasetFormat;
  /** Column names (header fields, JSON keys, or column1/column2 for headerless files). */
  columns: string[];
  /** The column (or shape, e.g. "instruction+input", "messages") used as input. */
  inputColumn: string;
  outputColumn: string;
  rows: Row[];
  warnings: DataWarning[];
}

export interface ParseOptions {
  inputColumn?: string;
  outputColumn?: string;
}
