import type { StateCreator } from 'zustand';
import type { Tokenizer } from '../../data/tokenizer.ts';
import type { ModelConfig } from '../../model/config.ts';
import { DEFAULT_MODEL_ID, defaultModelConfig } from '../default-model.ts';
import type { Store } from '../store.ts';

/**
 * The base model as the other steps see it. Until the model step loads one, the config is the
 * default curated model's (`modelLoaded` false) and there is no tokenizer.
 */
export interface ModelSlice {
  modelConfig: ModelConfig;
  modelName: string;
  modelLoaded: boolean;
  /** The loaded model's tokenizer; the data step checks row lengths with it when present. */
  tokenizer: Tokenizer | null;
  /** Whether prompts are rendered with the model's chat template (instruct models). */
  useChatTemplate: boolean;
  /** Called by the model step once a model's config is read. Adapter settings follow the new shape. */
  setModelConfig: (config: ModelConfig, name?: string) => void;
  setTokenizer: (tokenizer: Tokenizer | null, useChatTemplate: boolean) => void;
}

export const createModelSlice: StateCreator<Store, [], [], ModelSlice> = (set, get) => ({
  modelConfig: defaultModelConfig(),
  modelName: DEFAULT_MODEL_ID,
  modelLoaded: false,
  tokenizer: null,
  useChatTemplate: false,
  setModelConfig: (config, name = 'your model') => {
    set({ modelConfig: config, modelName: name, modelLoaded: true });
    get().fitAdapterToModel();
  },
  setTokenizer: (tokenizer, useChatTemplate) => set({ tokenizer, useChatTemplate }),
});
