import type { StateCreator } from 'zustand';
import type { Row } from '../../data/dataset.ts';
import type { EngineError } from '../../worker/client.ts';
import type { ExportDtype } from '../../onnx/hf-config.ts';
import type { AdapterInfo, ExportInfo, OnnxVerification } from '../../worker/protocol.ts';
import { liveRun } from '../train/live.ts';
import type { Store } from '../store.ts';
import { currentSplit } from './dataSlice.ts';
import { getEngine } from './engine.ts';

export interface ExportSlice {
  /** The adapter the worker holds (trained in step 4 or imported here); null before either. */
  adapterInfo: AdapterInfo | null;
  exportBusy: string | null;
  exportProblem: string | null;
  /** The last file offered for download (name and size), to say what happened. */
  lastDownload: { fileName: string; bytes: number } | null;
  exportAdapter: () => Promise<void>;
  exportMerged: () => Promise<void>;
  importAdapter: (files: { path: string; bytes: ArrayBuffer }[], sourceName: string) => Promise<void>;
  /** Weight storage of the ONNX export. */
  onnxDtype: ExportDtype;
  /** The check of the last ONNX export in ONNX Runtime, or why it could not run. */
  onnxVerification: OnnxVerification | null;
  onnxProblem: string | null;
  setOnnxDtype: (dtype: ExportDtype) => void;
  /** Exports the model (adapter merged) for transformers.js, downloads the zip, then checks it in ONNX Runtime. */
  exportOnnx: () => Promise<void>;
}

/** The check prompt's row: the first held-out row, else the first row, else none (a fixed prompt). */
export function onnxCheckRow(s: Store): Row | null {
  const split = currentSplit(s);
  if (!s.dataset || !split) return null;
  const i = split.val[0] ?? split.train[0];
  return i === undefined ? null : s.dataset.parsed.rows[i];
}

/** Offers bytes as a file download through a Blob link (nothing is uploaded anywhere). */
export function downloadBlob(bytes: ArrayBuffer, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** What the model card says: data size, settings and the final numbers of the run. */
export function exportInfoOf(s: Store): ExportInfo {
  const t = s.adapterSettings.training;
  const info = s.trainInfo;
  const r = s.trainResult;
  const metrics: Record<string, number> = {};
  if (r?.finalLoss != null) metrics['train loss'] = r.finalLoss;
  if (r?.valLoss != null) metrics['validation loss'] = r.valLoss;
  if (r?.accuracy != null) metrics['validation accuracy'] = r.accuracy;
  if (r) metrics.steps = r.step;
  return {
    dataFile: s.dataset?.fileName,
    trainRows: info?.trainRows ?? 0,
    validationRows: info?.valRows ?? 0,
    training: { 'learning rate': t.learningRate, epochs: t.epochs, 'batch size': t.batchSize, 'sequence length': t.seqLen, 'steps done': liveRun.getState().step },
    metrics,
  };
}

type SetStore = Parameters<StateCreator<Store>>[0];
type GetStore = Parameters<StateCreator<Store>>[1];

/**
 * Runs one export at a time: `what` is shown while it runs, and its error becomes the Export
 * step's problem. A second export asked for meanwhile is ignored.
 */
export function exportTask(set: SetStore, get: GetStore): (what: string, work: () => Promise<void>) => Promise<void> {
  return async (what, work) => {
    if (get().exportBusy) return;
    set({ exportBusy: what, exportProblem: null });
    try {
      await work();
    } catch (e) {
      set({ exportProblem: (e as EngineError).message });
    } finally {
      set({ exportBusy: null });
    }
  };
}

export const createExportSlice: StateCreator<Store, [], [], ExportSlice> = (set, get) => {
  const busy = exportTask(set, get);
  return {
    adapterInfo: null,
    exportBusy: null,
    exportProblem: null,
    lastDownload: null,
    exportAdapter: () =>
      busy('Packing the adapter…', async () => {
        const { zip, fileName } = await getEngine().call('export-adapter', { info: exportInfoOf(get()) });
        downloadBlob(zip, fileName);
        set({ lastDownload: { fileName, bytes: zip.byteLength } });
      }),
    exportMerged: () =>
      busy('Merging the adapter into the model…', async () => {
        const { zip, fileName } = await getEngine().call('export-merged', {});
        downloadBlob(zip, fileName);
        set({ lastDownload: { fileName, bytes: zip.byteLength } });
      }),
    importAdapter: (files, sourceName) =>
      busy('Reading the adapter…', async () => {
        const record: Record<string, ArrayBuffer> = {};
        for (const f of files) record[f.path] = f.bytes;
        const info = await getEngine().call('import-adapter', { files: record, sourceName }, undefined, files.map((f) => f.bytes));
        set({ adapterInfo: info, compareResult: null, freeAnswer: null, onnxVerification: null, onnxProblem: null });
      }),
    onnxDtype: 'f32',
    onnxVerification: null,
    onnxProblem: null,
    setOnnxDtype: (onnxDtype) => set({ onnxDtype }),
    exportOnnx: () =>
      busy('Exporting to ONNX…', async () => {
        set({ onnxVerification: null, onnxProblem: null });
        const progress = (what: string) => set({ exportBusy: what });
        const { zip, fileName } = await getEngine().call('export-onnx', { dtype: get().onnxDtype }, progress);
        downloadBlob(zip, fileName);
        set({ lastDownload: { fileName, bytes: zip.byteLength }, exportBusy: 'Checking the export in ONNX Runtime…' });
        try {
          const onnxVerification = await getEngine().call('verify-onnx', { row: onnxCheckRow(get()), useChatTemplate: get().useChatTemplate }, progress);
          set({ onnxVerification });
        } catch (e) {
          set({ onnxProblem: `The export was saved but could not be checked in ONNX Runtime: ${(e as EngineError).message}` });
        }
      }),
  };
};
