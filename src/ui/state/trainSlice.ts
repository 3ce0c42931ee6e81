import type { StateCreator } from 'zustand';
import { adapterModules, trainableParams } from '../../lora/modules.ts';
import { defaultTrainSettings, type TrainOptions } from '../../train/options.ts';
import type { EngineError } from '../../worker/client.ts';
import type { TrainResult } from '../../worker/protocol.ts';
import { applyLiveEvent, resetLive } from '../train/live.ts';
import { clearRunRecord, readRunRecord, writeRunRecord, type RunRecord } from '../train/run-record.ts';
import { explainTrainError } from '../train/messages.ts';
import type { Store } from '../store.ts';
import { getEngine } from './engine.ts';

export type TrainStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'done' | 'stopped' | 'failed';

export interface TrainSlice {
  trainStatus: TrainStatus;
  /** Steps limit for the run (null: the epochs of the adapter settings decide). */
  maxSteps: number | null;
  checkpointEvery: number;
  /** Start from the imported adapter instead of a fresh one. */
  continueImported: boolean;
  trainInfo: { trainRows: number; valRows: number; labels: string[] | null } | null;
  trainResult: TrainResult | null;
  /** Why the run failed, in plain words. */
  trainProblem: string | null;
  trainWarnings: string[];
  /** A run saved in this browser that can be resumed (after a reload, or after Stop). */
  savedRun: RunRecord | null;
  /** How the last run split and cut its rows: Compare scores the same held-out rows the same way. */
  runHeldOut: { rows: number; valSplit: number; seed: number; seqLen: number } | null;
  /** The step a paused run stands at (its adapter is then held for Compare and Export). */
  pausedAt: number | null;
  /** Held-out rows being evaluated after the last step (null otherwise). */
  evaluatingRows: number | null;
  /** The first run on this GPU is timing the matmul kernel choices. */
  tuningKernels: boolean;
  setMaxSteps: (n: number | null) => void;
  setCheckpointEvery: (n: number) => void;
  setContinueImported: (on: boolean) => void;
  startTraining: () => Promise<void>;
  resumeSavedRun: () => Promise<void>;
  controlTraining: (action: 'pause' | 'resume' | 'stop') => Promise<void>;
  findSavedRun: () => Promise<void>;
  discardSavedRun: () => Promise<void>;
  /** A new model: results of the old one no longer apply. */
  onModelChanged: () => void;
}

/** The run's settings from the adapter step (and the split from the data step). */
export function trainOptionsOf(s: Store): TrainOptions {
  const t = s.adapterSettings.training;
  const adapter = s.continueImported && s.adapterInfo?.source === 'imported' ? s.adapterInfo.adapter : s.adapterSettings.adapter;
  return {
    ...defaultTrainSettings(),
    adapter,
    lr: t.learningRate,
    epochs: t.epochs,
    steps: s.maxSteps,
    batchSize: t.batchSize,
    seqLen: Math.min(t.seqLen, s.modelConfig.maxPositions),
    recompute: t.recompute ? 'on' : 'auto',
    seed: s.splitSeed,
    valSplit: s.valPercent / 100,
  };
}

export const createTrainSlice: StateCreator<Store, [], [], TrainSlice> = (set, get) => {
  const run = async (record: RunRecord, resume: boolean, initFromAdapter: boolean) => {
    const s = get();
    if (!s.dataset) return;
    const o = record.options;
    set({ trainStatus: 'running', trainProblem: null, trainWarnings: [], trainResult: null, pausedAt: null, runHeldOut: { rows: s.dataset.parsed.rows.length, valSplit: o.valSplit, seed: o.seed, seqLen: o.seqLen } });
    resetLive(resume);
    const warn = (m: string) => set({ trainWarnings: [...get().trainWarnings, m] });
    const trainedInfo = () => {
      const a = record.options.adapter;
      return { adapter: a, trainableParams: trainableParams(adapterModules(get().modelConfig, a), a.rank), source: 'trained' as const };
    };
    try {
      const result = await getEngine().call(
        'train',
        { run: { rows: s.dataset.parsed.rows, options: record.options, useChatTemplate: record.useChatTemplate, checkpointEvery: record.checkpointEvery, resume, initFromAdapter } },
        (e) => {
          applyLiveEvent(e);
          if (e.type === 'tuning') set({ tuningKernels: true });
          else if (e.type === 'start') {
            set({ tuningKernels: false, trainInfo: { trainRows: e.trainRows, valRows: e.valRows, labels: e.labels } });
            record.totalSteps = e.totalSteps;
          } else if (e.type === 'checkpoint') {
            record.checkpointStep = e.step;
            writeRunRecord(record).catch((err: Error) => warn(`The run could not be saved for a reload: ${err.message}.`));
          } else if (e.type === 'warning') warn(e.message);
          else if (e.type === 'evaluating') set({ evaluatingRows: e.rows });
          else if (e.type === 'paused') set({ trainStatus: 'paused', pausedAt: e.step, adapterInfo: trainedInfo(), compareResult: null, freeAnswer: null });
          // what was compared at the pause no longer describes the adapter once training moves on
          else if (e.type === 'resumed') set({ trainStatus: 'running', pausedAt: null, compareResult: null, freeAnswer: null });
        },
      );
      const status = result.status === 'done' || result.status === 'early-stopped' ? 'done' : result.status === 'stopped' ? 'stopped' : 'failed';
      set({ evaluatingRows: null, tuningKernels: false, trainStatus: status, trainResult: result, trainProblem: result.status === 'non-finite' ? result.message : null });
      set({ adapterInfo: trainedInfo(), pausedAt: null, openedRun: null, compareResult: null, freeAnswer: null });
      await get().recordRun(record, result);
      if (status === 'done') {
        await clearRunRecord().catch(() => undefined);
        set({ savedRun: null });
      } else set({ savedRun: record.checkpointStep !== null ? { ...record } : null });
    } catch (e) {
      set({ evaluatingRows: null, tuningKernels: false, trainStatus: 'failed', trainProblem: explainTrainError(e as EngineError, record) });
      if (record.checkpointStep !== null) set({ savedRun: { ...record } });
    }
  };

  return {
    trainStatus: 'idle',
    maxSteps: null,
    checkpointEvery: 10,
    continueImported: false,
    trainInfo: null,
    trainResult: null,
    trainProblem: null,
    trainWarnings: [],
    savedRun: null,
    runHeldOut: null,
    pausedAt: null,
    evaluatingRows: null,
    tuningKernels: false,
    setMaxSteps: (n) => set({ maxSteps: n !== null && Number.isInteger(n) && n >= 1 ? n : null }),
    setCheckpointEvery: (n) => set({ checkpointEvery: Number.isInteger(n) && n >= 0 ? n : 10 }),
    setContinueImported: (on) => set({ continueImported: on }),
    startTraining: async () => {
      const s = get();
      if (!s.dataset || !s.modelLoaded) return;
      const record: RunRecord = {
        modelName: s.modelName,
        dataFile: s.dataset.fileName,
        inputColumn: s.dataset.parsed.inputColumn,
        outputColumn: s.dataset.parsed.outputColumn,
        valPercent: s.valPercent,
        splitSeed: s.splitSeed,
        options: trainOptionsOf(s),
        useChatTemplate: s.useChatTemplate,
        checkpointEvery: s.checkpointEvery,
        totalSteps: 0,
        checkpointStep: null,
      };
      set({ savedRun: null });
      if (record.checkpointEvery > 0) {
        await clearRunRecord().catch(() => undefined);
        await writeRunRecord(record, s.dataset.bytes).catch((e: Error) => set({ trainWarnings: [`The run cannot be resumed after a reload: ${e.message}.`] }));
      }
      await run(record, false, s.continueImported && s.adapterInfo?.source === 'imported');
    },
    resumeSavedRun: async () => {
      const saved = await readRunRecord();
      if (!saved) {
        set({ savedRun: null, trainProblem: 'The saved run is no longer in this browser\'s storage; start a new run.' });
        return;
      }
      const { record, data } = saved;
      const s = get();
      if (s.dataset?.fileName !== record.dataFile || s.dataset.bytes.length !== data.length) s.loadDataFile(data, record.dataFile);
      get().mapColumns(record.inputColumn, record.outputColumn);
      get().setValPercent(record.valPercent);
      get().setSplitSeed(record.splitSeed);
      set({ savedRun: null });
      await run(record, true, false);
    },
    controlTraining: async (action) => {
      if (action === 'stop') set({ trainStatus: 'stopping' });
      await getEngine().call('train-control', { action });
    },
    findSavedRun: async () => {
      const saved = await readRunRecord();
      if (saved && saved.record.checkpointStep !== null && get().trainStatus === 'idle') set({ savedRun: saved.record });
    },
    discardSavedRun: async () => {
      await clearRunRecord().catch(() => undefined);
      set({ savedRun: null });
    },
    onModelChanged: () => set({ trainResult: null, trainInfo: null, trainProblem: null, adapterInfo: null, compareResult: null, freeAnswer: null, runHeldOut: null, pausedAt: null }),
  };
};
