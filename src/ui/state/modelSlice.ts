import type { StateCreator } from 'zustand';
import type { Tokenizer } from '../../data/tokenizer.ts';
import type { HubCacheEntry } from '../../io/hub-cache.ts';
import type { ModelConfig } from '../../model/config.ts';
import type { EngineError } from '../../worker/client.ts';
import type { ModelSummary } from '../../worker/protocol.ts';
import { DEFAULT_MODEL_ID, defaultModelConfig } from '../default-model.ts';
import { tokenizerFromSource } from '../model/tokenizer-source.ts';
import type { Store } from '../store.ts';
import { getEngine } from './engine.ts';

export interface ModelProgress {
  /** What is being loaded (a Hub id or file name). */
  source: string;
  /** The file in flight, with bytes loaded of total (0: unknown); null while the worker reads the weights. */
  file: string | null;
  loaded: number;
  total: number;
}

export interface ModelProblem {
  source: string;
  message: string;
  kind: string;
  /** Whether a Hugging Face access token was sent (an 'auth' problem then means it was refused). */
  tokenSent: boolean;
}

/**
 * The base model as the other steps see it. Until the model step loads one, the config is the
 * default curated model's (`modelLoaded` false) and there is no tokenizer.
 */
export interface ModelSlice {
  modelConfig: ModelConfig;
  modelName: string;
  modelLoaded: boolean;
  /** What the worker said about the loaded model (sizes, dtype, LoRA targets). */
  modelSummary: ModelSummary | null;
  /** The loaded model's tokenizer; the data step checks row lengths with it when present. */
  tokenizer: Tokenizer | null;
  /** Whether prompts are rendered with the model's chat template (instruct models). */
  useChatTemplate: boolean;
  modelProgress: ModelProgress | null;
  /** Why the last load failed; the previously loaded model (if any) stays. */
  modelProblem: ModelProblem | null;
  cacheEntries: HubCacheEntry[] | null;
  /**
   * A Hugging Face access token for gated models. Held in memory for this tab only: never
   * stored, logged or put in a URL; sent with Hub downloads to the Hub alone.
   */
  hubToken: string;
  setHubToken: (token: string) => void;
  /** Called by the model step once a model's config is read. Adapter settings follow the new shape. */
  setModelConfig: (config: ModelConfig, name?: string) => void;
  setTokenizer: (tokenizer: Tokenizer | null, useChatTemplate: boolean) => void;
  /** Files from disk: one `.gguf`, or a Hugging Face folder's files by relative path. Sent to the worker (transferred). */
  loadModelFiles: (files: { path: string; bytes: ArrayBuffer }[], sourceName: string) => Promise<boolean>;
  downloadModel: (repo: string, files: string[]) => Promise<boolean>;
  refreshCache: () => Promise<void>;
  clearCache: () => Promise<void>;
  /** Quantizes the loaded full-precision model at load (a 4-bit base); the summary shows what it saved. */
  quantizeBase: () => Promise<boolean>;
}

export const createModelSlice: StateCreator<Store, [], [], ModelSlice> = (set, get) => {
  /** Shared by both ways of loading: the summary becomes the model of every step, or the problem is shown. */
  const finish = async (source: string, load: () => Promise<ModelSummary>, tokenSent = false): Promise<boolean> => {
    if (get().modelProgress) return false;
    set({ modelProgress: { source, file: null, loaded: 0, total: 0 }, modelProblem: null });
    try {
      const summary = await load();
      const tokenizer = tokenizerFromSource(summary.tokenizer);
      set({ modelSummary: summary });
      get().setModelConfig(summary.config, summary.name);
      get().setTokenizer(tokenizer, tokenizer.chatTemplate !== null);
      get().onModelChanged();
      return true;
    } catch (e) {
      const err = e as EngineError;
      set({ modelProblem: { source, message: err.message, kind: err.errorKind ?? 'internal', tokenSent } });
      return false;
    } finally {
      set({ modelProgress: null });
      void get().refreshCache();
    }
  };

  return {
    modelConfig: defaultModelConfig(),
    modelName: DEFAULT_MODEL_ID,
    modelLoaded: false,
    modelSummary: null,
    tokenizer: null,
    useChatTemplate: false,
    modelProgress: null,
    modelProblem: null,
    cacheEntries: null,
    hubToken: '',
    setHubToken: (token) => set({ hubToken: token }),
    setModelConfig: (config, name = 'your model') => {
      set({ modelConfig: config, modelName: name, modelLoaded: true });
      get().fitAdapterToModel();
    },
    setTokenizer: (tokenizer, useChatTemplate) => set({ tokenizer, useChatTemplate }),
    loadModelFiles: (files, sourceName) =>
      finish(sourceName, () => {
        const record: Record<string, ArrayBuffer> = {};
        for (const f of files) record[f.path] = f.bytes;
        return getEngine().call('load-files', { files: record, sourceName }, undefined, files.map((f) => f.bytes));
      }),
    downloadModel: (repo, files) => {
      const token = get().hubToken.trim();
      return finish(
        repo,
        () =>
          getEngine().call('download-model', token ? { repo, files, token } : { repo, files }, (p) => {
            set({ modelProgress: p.status === 'done' && p.file === files[files.length - 1] ? { source: repo, file: null, loaded: 0, total: 0 } : { source: repo, file: p.file, loaded: p.loaded, total: p.total } });
          }),
        token !== '',
      );
    },
    refreshCache: async () => {
      try {
        set({ cacheEntries: await getEngine().call('cache-list', {}) });
      } catch {
        set({ cacheEntries: [] });
      }
    },
    quantizeBase: async () => {
      const name = get().modelSummary?.name ?? 'the model';
      if (get().modelProgress) return false;
      set({ modelProgress: { source: name, file: null, loaded: 0, total: 0 }, modelProblem: null });
      try {
        set({ modelSummary: await getEngine().call('quantize-base', {}) });
        return true;
      } catch (e) {
        const err = e as EngineError;
        set({ modelProblem: { source: name, message: err.message, kind: err.errorKind ?? 'internal', tokenSent: false } });
        return false;
      } finally {
        set({ modelProgress: null });
      }
    },
    clearCache: async () => {
      await getEngine().call('cache-clear', {});
      await get().refreshCache();
    },
  };
};
