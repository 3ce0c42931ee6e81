import type { StateCreator } from 'zustand';
import type { AdapterConfig } from '../../lora/config.ts';
import { presetSettings, type AdapterSettings, type PresetName, type TrainingSettings } from '../adapter-settings.ts';
import { defaultModelConfig } from '../default-model.ts';
import type { Store } from '../store.ts';
import { currentSplit } from './dataSlice.ts';

export interface AdapterSlice {
  adapterSettings: AdapterSettings;
  applyPreset: (name: PresetName) => void;
  /** A hand change: the settings become 'custom'. A rank change moves alpha along when alpha was 2·rank. */
  updateAdapter: (change: Partial<Pick<AdapterConfig, 'rank' | 'alpha' | 'dropout' | 'rslora'>>) => void;
  updateTraining: (change: Partial<TrainingSettings>) => void;
  toggleTarget: (target: string) => void;
  /** Adds or removes one layer; `layers` stays null while every layer is chosen. */
  toggleLayer: (layer: number) => void;
  setAllLayers: (on: boolean) => void;
  /** Re-applies the current preset (or Balanced) to a new model's shape, keeping batch and length. */
  fitAdapterToModel: () => void;
  /** New data or a new split: a preset (not custom settings) fits its learning rate and epochs again. */
  refitPreset: () => void;
}

/** Training rows of the current data and split (null before data is loaded). */
const trainRowsOf = (s: Store) => currentSplit(s)?.train.length ?? null;

export const createAdapterSlice: StateCreator<Store, [], [], AdapterSlice> = (set, get) => {
  const custom = (adapter: AdapterConfig, training: TrainingSettings = get().adapterSettings.training) =>
    set({ adapterSettings: { preset: 'custom', adapter, training } });
  const layerCount = () => get().modelConfig.layers;
  return {
    adapterSettings: presetSettings('balanced', defaultModelConfig()),
    applyPreset: (name) => {
      const { batchSize, seqLen } = get().adapterSettings.training;
      set({ adapterSettings: presetSettings(name, get().modelConfig, { batchSize, seqLen }, trainRowsOf(get())) });
    },
    updateAdapter: (change) => {
      const a = get().adapterSettings.adapter;
      // alpha that followed the rank (2·R, as the presets set it) keeps following it
      const follow = change.rank !== undefined && change.alpha === undefined && a.alpha === 2 * a.rank;
      custom({ ...a, ...change, ...(follow ? { alpha: 2 * change.rank! } : {}) });
    },
    updateTraining: (change) => {
      const s = get().adapterSettings;
      set({ adapterSettings: { preset: 'custom', adapter: s.adapter, training: { ...s.training, ...change } } });
    },
    toggleTarget: (target) => {
      const a = get().adapterSettings.adapter;
      const current = a.targets === 'all-linear' ? [] : a.targets;
      const targets = current.includes(target) ? current.filter((t) => t !== target) : [...current, target];
      custom({ ...a, targets });
    },
    toggleLayer: (layer) => {
      const a = get().adapterSettings.adapter;
      const all = Array.from({ length: layerCount() }, (_, i) => i);
      const on = new Set(a.layers ?? all);
      if (on.has(layer)) on.delete(layer);
      else on.add(layer);
      custom({ ...a, layers: on.size === all.length ? null : [...on].sort((x, y) => x - y) });
    },
    setAllLayers: (on) => custom({ ...get().adapterSettings.adapter, layers: on ? null : [] }),
    fitAdapterToModel: () => {
      const s = get().adapterSettings;
      const { batchSize, seqLen } = s.training;
      set({ adapterSettings: presetSettings(s.preset === 'custom' ? 'balanced' : s.preset, get().modelConfig, { batchSize, seqLen }, trainRowsOf(get())) });
    },
    refitPreset: () => {
      const s = get().adapterSettings;
      if (s.preset === 'custom') return;
      set({ adapterSettings: presetSettings(s.preset, get().modelConfig, { batchSize: s.training.batchSize, seqLen: s.training.seqLen }, trainRowsOf(get())) });
    },
  };
};
