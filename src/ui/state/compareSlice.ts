import type { StateCreator } from 'zustand';
import type { Row } from '../../data/dataset.ts';
import { splitTrainVal } from '../../data/split.ts';
import { labelReport, textReport, type EvalReport } from '../../eval/report.ts';
import { scoredLabels } from '../../train/data.ts';
import type { EngineError } from '../../worker/client.ts';
import type { Sampling } from '../../worker/protocol.ts';
import type { Store } from '../store.ts';
import { currentSplit } from './dataSlice.ts';
import { getEngine } from './engine.ts';

/** Label tasks: rows whose free generation is shown beside the prediction (generation takes a moment per row). */
export const WRITE_LABEL_ROWS = 16;
/** Free-text tasks: held-out rows answered and scored (each answer is generated). */
export const MAX_TEXT_ROWS = 32;
/** Rows compared when there are no held-out rows (validation split 0): the first training rows. */
export const FALLBACK_ROWS = 8;

export interface CompareRow {
  /** 1-based line of the row in the data file. */
  line: number;
  input: string;
  expected: string;
  /** What each model writes freely (null: not generated for this row). */
  base: string | null;
  tuned: string | null;
  /** Label tasks: the likeliest label of each model. */
  basePredicted?: string;
  tunedPredicted?: string;
}

/** The rows the confusion matrix or the mistakes list narrows the table to. */
export type CompareFilter = { model: 'base' | 'tuned'; truth: string; predicted: string } | { mistakes: 'tuned' } | null;

export interface CompareResult {
  rows: CompareRow[];
  labels: string[] | null;
  base: EvalReport;
  tuned: EvalReport;
  /** Where the rows come from, for people. */
  source: string;
}

export interface CompareSlice {
  compareResult: CompareResult | null;
  compareFilter: CompareFilter;
  freeAnswer: { prompt: string; base: string; tuned: string } | null;
  compareBusy: boolean;
  compareProblem: string | null;
  /** LoRA scale multiplier, 0 (base) … 1 (as trained). */
  strength: number;
  sampling: Sampling;
  compareHeldOut: () => Promise<void>;
  askFree: (prompt: string) => Promise<void>;
  setStrength: (s: number) => void;
  setSampling: (change: Partial<Sampling>) => void;
  setCompareFilter: (f: CompareFilter) => void;
}

/** Answers match when equal after trimming and ignoring case (labels as a person reads them). */
export function sameAnswer(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The held-out rows to compare on: those of the run that trained the adapter (the same split the
 * trainer validated on), else the data step's current split; the first training rows when nothing
 * is held out. Also the sequence length the rows are cut at (the run's).
 */
export function heldOutRows(s: Store): { indices: number[]; seqLen: number; source: string } | null {
  if (!s.dataset) return null;
  const n = s.dataset.parsed.rows.length;
  const run = s.runHeldOut;
  if (run && run.rows === n && s.adapterInfo?.source === 'trained') {
    return { indices: splitTrainVal(n, run.valSplit, run.seed).val, seqLen: run.seqLen, source: 'the validation rows of the training run' };
  }
  const split = currentSplit(s);
  if (!split) return null;
  const seqLen = Math.min(s.adapterSettings.training.seqLen, s.modelConfig.maxPositions);
  if (split.val.length > 0) return { indices: split.val, seqLen, source: 'the validation rows of step 2' };
  return { indices: split.train.slice(0, FALLBACK_ROWS), seqLen, source: `the first ${FALLBACK_ROWS} training rows (step 2 holds out no rows)` };
}

export const createCompareSlice: StateCreator<Store, [], [], CompareSlice> = (set, get) => {
  const guarded = async (work: () => Promise<void>) => {
    if (get().compareBusy) return;
    set({ compareBusy: true, compareProblem: null });
    try {
      await work();
    } catch (e) {
      set({ compareProblem: (e as EngineError).message });
    } finally {
      set({ compareBusy: false });
    }
  };
  return {
    compareResult: null,
    compareFilter: null,
    freeAnswer: null,
    compareBusy: false,
    compareProblem: null,
    strength: 1,
    sampling: { maxNewTokens: 24, temperature: 0, seed: 42 },
    compareHeldOut: () =>
      guarded(async () => {
        const s = get();
        const held = heldOutRows(s);
        if (!s.dataset || !held) throw new Error('Load a dataset in step 2 first.');
        const all = s.dataset.parsed.rows;
        const labels = scoredLabels(all);
        const indices = labels ? held.indices : held.indices.slice(0, MAX_TEXT_ROWS);
        const rows: Row[] = indices.map((i) => all[i]);
        const writeRows = labels ? WRITE_LABEL_ROWS : rows.length;
        const answers = await getEngine().call('compare', { rows, useChatTemplate: s.useChatTemplate, sampling: s.sampling, strength: s.strength, labels, seqLen: held.seqLen, writeRows });
        const compared: CompareRow[] = rows.map((r, i) => ({ line: r.line, input: r.input, expected: r.output, ...answers[i] }));
        const truth = rows.map((r) => r.output);
        const report = (which: 'base' | 'tuned'): EvalReport =>
          labels
            ? labelReport(labels, truth, compared.map((r) => (which === 'base' ? r.basePredicted! : r.tunedPredicted!)))
            : textReport(truth, compared.map((r) => (which === 'base' ? r.base : r.tuned) ?? ''));
        const source = labels || rows.length === held.indices.length ? held.source : `the first ${rows.length} of ${held.source}`;
        set({ compareResult: { rows: compared, labels, base: report('base'), tuned: report('tuned'), source }, compareFilter: null });
      }),
    askFree: (prompt) =>
      guarded(async () => {
        const s = get();
        const rows = [{ input: prompt, output: '', line: 0 }];
        const [a] = await getEngine().call('compare', { rows, useChatTemplate: s.useChatTemplate, sampling: s.sampling, strength: s.strength, labels: null, seqLen: s.adapterSettings.training.seqLen, writeRows: 1 });
        set({ freeAnswer: { prompt, base: a.base ?? '', tuned: a.tuned ?? '' } });
      }),
    setStrength: (strength) => {
      set({ strength: Math.min(1, Math.max(0, strength)) });
      const free = get().freeAnswer;
      if (free) void get().askFree(free.prompt);
      else if (get().compareResult) void get().compareHeldOut();
    },
    setSampling: (change) => set({ sampling: { ...get().sampling, ...change } }),
    setCompareFilter: (compareFilter) => set({ compareFilter }),
  };
};
