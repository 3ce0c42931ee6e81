import type { StateCreator } from 'zustand';
import type { Row } from '../../data/dataset.ts';
import { scoredLabels } from '../../train/data.ts';
import type { EngineError } from '../../worker/client.ts';
import type { Sampling } from '../../worker/protocol.ts';
import type { Store } from '../store.ts';
import { currentSplit } from './dataSlice.ts';
import { getEngine } from './engine.ts';

/** Held-out rows compared at once: generation on a laptop GPU takes a moment per row. */
export const COMPARE_ROWS = 8;

export interface CompareRow {
  input: string;
  expected: string;
  base: string;
  tuned: string;
}

export interface CompareSlice {
  compareRows: CompareRow[] | null;
  /** When the outputs are labels: the label set (answers are scored as correct or not). */
  compareLabels: string[] | null;
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
}

/** Answers match when equal after trimming and ignoring case (labels as a person reads them). */
export function sameAnswer(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

export const createCompareSlice: StateCreator<Store, [], [], CompareSlice> = (set, get) => {
  const ask = async (rows: Row[]) => {
    const s = get();
    return getEngine().call('compare', { rows, useChatTemplate: s.useChatTemplate, sampling: s.sampling, strength: s.strength });
  };
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
    compareRows: null,
    compareLabels: null,
    freeAnswer: null,
    compareBusy: false,
    compareProblem: null,
    strength: 1,
    sampling: { maxNewTokens: 24, temperature: 0, seed: 42 },
    compareHeldOut: () =>
      guarded(async () => {
        const s = get();
        const split = currentSplit(s);
        if (!s.dataset || !split) throw new Error('Load a dataset in step 2 first.');
        const all = s.dataset.parsed.rows;
        const rows = (split.val.length > 0 ? split.val : split.train).slice(0, COMPARE_ROWS).map((i) => all[i]);
        const answers = await ask(rows);
        set({
          compareRows: rows.map((r, i) => ({ input: r.input, expected: r.output, base: answers[i].base, tuned: answers[i].tuned })),
          compareLabels: scoredLabels(all),
        });
      }),
    askFree: (prompt) =>
      guarded(async () => {
        const [a] = await ask([{ input: prompt, output: '', line: 0 }]);
        set({ freeAnswer: { prompt, base: a.base, tuned: a.tuned } });
      }),
    setStrength: (strength) => {
      set({ strength: Math.min(1, Math.max(0, strength)) });
      const free = get().freeAnswer;
      if (free) void get().askFree(free.prompt);
      else if (get().compareRows) void get().compareHeldOut();
    },
    setSampling: (change) => set({ sampling: { ...get().sampling, ...change } }),
  };
};
