import type { StateCreator } from 'zustand';
import type { GgufFileType } from '../../train/gguf-files.ts';
import type { Store } from '../store.ts';
import { downloadBlob, exportTask } from './exportSlice.ts';
import { getEngine } from './engine.ts';
import { trainOptionsOf } from './trainSlice.ts';

/** The GGUF exports (llama.cpp, ollama, LM Studio) and "Continue on a GPU server" of the Export step. */
export interface GgufSlice {
  ggufAdapterDtype: 'F32' | 'F16';
  ggufFileType: GgufFileType;
  /** The last merged GGUF export: its file and the line that registers it with ollama. */
  ggufMerged: { ggufName: string; createLine: string; modelfile: string } | null;
  setGgufAdapterDtype: (d: 'F32' | 'F16') => void;
  setGgufFileType: (t: GgufFileType) => void;
  exportGgufAdapter: () => Promise<void>;
  exportGgufMerged: () => Promise<void>;
  exportGpuServer: () => Promise<void>;
}

export const createGgufSlice: StateCreator<Store, [], [], GgufSlice> = (set, get) => {
  const busy = exportTask(set, get);
  const progress = (what: string) => set({ exportBusy: what });
  return {
    ggufAdapterDtype: 'F32',
    ggufFileType: 'Q8_0',
    ggufMerged: null,
    setGgufAdapterDtype: (ggufAdapterDtype) => set({ ggufAdapterDtype }),
    setGgufFileType: (ggufFileType) => set({ ggufFileType }),
    exportGgufAdapter: () =>
      busy('Writing the GGUF adapter…', async () => {
        const { bytes, fileName } = await getEngine().call('export-gguf-adapter', { dtype: get().ggufAdapterDtype });
        downloadBlob(bytes, fileName);
        set({ lastDownload: { fileName, bytes: bytes.byteLength } });
      }),
    exportGgufMerged: () =>
      busy('Writing the GGUF model…', async () => {
        const r = await getEngine().call('export-gguf-merged', { fileType: get().ggufFileType, useChatTemplate: get().useChatTemplate }, progress);
        downloadBlob(r.zip, r.fileName);
        set({ lastDownload: { fileName: r.fileName, bytes: r.zip.byteLength }, ggufMerged: { ggufName: r.ggufName, createLine: r.createLine, modelfile: r.modelfile } });
      }),
    exportGpuServer: () =>
      busy('Writing the GPU server folder…', async () => {
        const s = get();
        const rows = s.dataset?.parsed.rows ?? [];
        const r = await getEngine().call('export-gpu-server', { rows, options: trainOptionsOf(s), useChatTemplate: s.useChatTemplate }, progress);
        downloadBlob(r.zip, r.fileName);
        set({ lastDownload: { fileName: r.fileName, bytes: r.zip.byteLength } });
      }),
  };
};
