import type { StateCreator } from 'zustand';
import { DataError, parseDataset, type ParsedDataset } from '../../data/parse.ts';
import { splitTrainVal } from '../../data/split.ts';
import type { Store } from '../store.ts';

export const DEMO_DATASET_URL = `${import.meta.env.BASE_URL}demo/support-tickets.csv`;
export const DEMO_DATASET_NAME = 'support-tickets.csv';
/** Larger files are refused before reading: a browser tab trains on thousands of rows, not millions. */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;

export interface LoadedDataset {
  fileName: string;
  /** The file as read, kept to re-parse when the column mapping changes. */
  bytes: Uint8Array;
  parsed: ParsedDataset;
}

/** Why the last file or mapping was refused: what was wrong and what to do (file and row apart). */
export interface DataProblem {
  file: string;
  row: number | null;
  message: string;
}

/** DataError messages start with "file, row N: "; the alert shows file and row in its title. */
function withoutPlace(message: string, file: string, row: number | null): string {
  const prefix = row === null ? `${file}: ` : `${file}, row ${row}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

export interface DataSlice {
  dataset: LoadedDataset | null;
  dataProblem: DataProblem | null;
  dataLoading: boolean;
  /** Share of rows held out for validation, in percent. */
  valPercent: number;
  splitSeed: number;
  /** Parses a file; on failure the previous dataset stays and `dataProblem` says why. */
  loadDataFile: (bytes: Uint8Array, fileName: string) => boolean;
  loadDemoData: () => Promise<void>;
  /** Re-reads the current file with other input/output columns (undefined: found by name). */
  mapColumns: (inputColumn: string | undefined, outputColumn: string | undefined) => boolean;
  setValPercent: (percent: number) => void;
  setSplitSeed: (seed: number) => void;
}

function problemOf(e: unknown, fileName: string): DataProblem {
  if (e instanceof DataError) return { file: e.file, row: e.row, message: withoutPlace(e.message, e.file, e.row) };
  return { file: fileName, row: null, message: `it could not be read (${(e as Error).message}); check that it is a CSV, TSV, JSONL or JSON file` };
}

export const createDataSlice: StateCreator<Store, [], [], DataSlice> = (set, get) => ({
  dataset: null,
  dataProblem: null,
  dataLoading: false,
  valPercent: 10,
  splitSeed: 42,
  loadDataFile: (bytes, fileName) => {
    if (bytes.length > MAX_DATASET_BYTES) {
      const mb = (bytes.length / 1024 ** 2).toFixed(0);
      set({ dataProblem: { file: fileName, row: null, message: `the file is ${mb} MB; use a file under ${MAX_DATASET_BYTES / 1024 ** 2} MB (a few thousand rows are plenty for an adapter)` } });
      return false;
    }
    try {
      const parsed = parseDataset(bytes, fileName);
      set({ dataset: { fileName, bytes, parsed }, dataProblem: null });
      get().refitPreset();
      return true;
    } catch (e) {
      set({ dataProblem: problemOf(e, fileName) });
      return false;
    }
  },
  loadDemoData: async () => {
    set({ dataLoading: true });
    try {
      const response = await fetch(DEMO_DATASET_URL);
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      get().loadDataFile(new Uint8Array(await response.arrayBuffer()), DEMO_DATASET_NAME);
    } catch (e) {
      set({ dataProblem: { file: DEMO_DATASET_NAME, row: null, message: `the demo dataset could not be loaded (${(e as Error).message}); reload the page and try again` } });
    } finally {
      set({ dataLoading: false });
    }
  },
  mapColumns: (inputColumn, outputColumn) => {
    const current = get().dataset;
    if (!current) return false;
    try {
      const parsed = parseDataset(current.bytes, current.fileName, { inputColumn, outputColumn });
      set({ dataset: { ...current, parsed }, dataProblem: null });
      return true;
    } catch (e) {
      set({ dataProblem: problemOf(e, current.fileName) });
      return false;
    }
  },
  setValPercent: (percent) => {
    set({ valPercent: Math.min(50, Math.max(0, Math.round(percent))) });
    get().refitPreset();
  },
  setSplitSeed: (seed) => set({ splitSeed: Number.isSafeInteger(seed) ? seed : 0 }),
});

/** The train/validation split of the loaded rows (indices), deterministic from the seed. */
export function currentSplit(s: Pick<Store, 'dataset' | 'valPercent' | 'splitSeed'>): { train: number[]; val: number[] } | null {
  if (!s.dataset) return null;
  return splitTrainVal(s.dataset.parsed.rows.length, s.valPercent / 100, s.splitSeed);
}
