import type { StateCreator } from 'zustand';
import { dataFingerprint } from '../../train/checkpoint.ts';
import type { TrainResult } from '../../worker/protocol.ts';
import { addRun, deleteRun, historyStorage, listRuns, newRunId, readRunAdapter, type HistoryRun } from '../history/run-history.ts';
import { liveRun } from '../train/live.ts';
import type { RunRecord } from '../train/run-record.ts';
import type { Store } from '../store.ts';
import { downloadBlob, exportInfoOf } from './exportSlice.ts';
import { getEngine } from './engine.ts';

/** Loss curves overlaid at most at once. */
export const MAX_OVERLAID = 4;

export interface HistorySlice {
  historyRuns: HistoryRun[];
  /** Runs whose loss curves are overlaid (2–4 make a comparison). */
  overlaid: string[];
  historyProblem: string | null;
  /** The history run whose adapter the worker holds now (opened from the history), if any. */
  openedRun: string | null;
  loadHistory: () => Promise<void>;
  /** Keeps a run that just ended: settings, data fingerprint, curves, final evaluation and adapter. */
  recordRun: (record: RunRecord, result: TrainResult) => Promise<void>;
  toggleOverlay: (id: string) => void;
  removeRun: (id: string) => Promise<void>;
  /** Loads a run's adapter into the worker, to compare it (step 5) or export it (step 6). */
  openRun: (id: string) => Promise<void>;
  downloadRun: (id: string) => Promise<void>;
}

const problemOf = (e: unknown) => (e as Error).message;

export const createHistorySlice: StateCreator<Store, [], [], HistorySlice> = (set, get) => {
  const attempt = async (work: () => Promise<void>) => {
    try {
      set({ historyProblem: null });
      await work();
    } catch (e) {
      set({ historyProblem: problemOf(e) });
    }
  };
  const adapterOf = async (id: string) => {
    const zip = await readRunAdapter(await historyStorage(), id);
    if (!zip) throw new Error('This run\'s adapter is no longer in the browser\'s storage (site data was cleared); delete the run from the history.');
    return zip;
  };
  return {
    historyRuns: [],
    overlaid: [],
    historyProblem: null,
    openedRun: null,
    loadHistory: () =>
      attempt(async () => {
        set({ historyRuns: await listRuns(await historyStorage()) });
      }),
    recordRun: (record, result) =>
      attempt(async () => {
        const s = get();
        if (!s.dataset || result.step === 0) return;
        const { zip } = await getEngine().call('export-adapter', { info: exportInfoOf(s) });
        const live = liveRun.getState();
        const run: HistoryRun = {
          id: newRunId(),
          endedAt: new Date().toISOString(),
          modelName: record.modelName,
          dataFile: record.dataFile,
          dataFingerprint: dataFingerprint(s.dataset.parsed.rows),
          trainRows: s.trainInfo?.trainRows ?? 0,
          valRows: s.trainInfo?.valRows ?? 0,
          options: record.options,
          status: result.status,
          steps: result.step,
          totalSteps: result.totalSteps,
          losses: live.steps.map((p) => [p.step, p.loss]),
          valLosses: live.evals.map((p) => [p.step, p.valLoss]),
          finalLoss: result.finalLoss,
          valLoss: result.valLoss,
          evaluation: result.evaluation,
          adapterBytes: zip.byteLength,
        };
        const runs = await addRun(await historyStorage(), run, new Uint8Array(zip));
        const overlaid = [run.id, ...get().overlaid].slice(0, MAX_OVERLAID);
        set({ historyRuns: runs, overlaid, openedRun: null });
      }),
    toggleOverlay: (id) => {
      const on = get().overlaid;
      if (on.includes(id)) set({ overlaid: on.filter((x) => x !== id) });
      else if (on.length < MAX_OVERLAID) set({ overlaid: [...on, id] });
      else set({ historyProblem: `At most ${MAX_OVERLAID} runs are overlaid at once; untick one first.` });
    },
    removeRun: (id) =>
      attempt(async () => {
        const runs = await deleteRun(await historyStorage(), id);
        set({ historyRuns: runs, overlaid: get().overlaid.filter((x) => x !== id), openedRun: get().openedRun === id ? null : get().openedRun });
      }),
    openRun: (id) =>
      attempt(async () => {
        const run = get().historyRuns.find((r) => r.id === id);
        if (!run) return;
        if (get().modelName !== run.modelName || !get().modelLoaded) throw new Error(`This run trained ${run.modelName}; load that model in step 1 first.`);
        const zip = await adapterOf(id);
        await get().importAdapter([{ path: `${id}.zip`, bytes: zip.slice().buffer }], `${run.dataFile} run`);
        const problem = get().exportProblem;
        if (problem) throw new Error(problem);
        const same = get().dataset !== null && dataFingerprint(get().dataset!.parsed.rows) === run.dataFingerprint;
        const o = run.options;
        set({
          openedRun: id,
          adapterInfo: { ...get().adapterInfo!, source: 'trained' },
          runHeldOut: same ? { rows: get().dataset!.parsed.rows.length, valSplit: o.valSplit, seed: o.seed, seqLen: o.seqLen } : null,
        });
      }),
    downloadRun: (id) =>
      attempt(async () => {
        const run = get().historyRuns.find((r) => r.id === id);
        const zip = await adapterOf(id);
        downloadBlob(zip.slice().buffer, `${(run?.modelName ?? 'model').split('/').pop()!.replace(/\.gguf$/i, '')}-${id}.zip`);
      }),
  };
};

