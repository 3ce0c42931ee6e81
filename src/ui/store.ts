import { create } from 'zustand';
import { createAdapterSlice, type AdapterSlice } from './state/adapterSlice.ts';
import { createCompareSlice, type CompareSlice } from './state/compareSlice.ts';
import { createDataSlice, type DataSlice } from './state/dataSlice.ts';
import { createExportSlice, type ExportSlice } from './state/exportSlice.ts';
import { createGgufSlice, type GgufSlice } from './state/ggufSlice.ts';
import { createGpuSlice, type GpuSlice } from './state/gpuSlice.ts';
import { createHistorySlice, type HistorySlice } from './state/historySlice.ts';
import { createModelSlice, type ModelSlice } from './state/modelSlice.ts';
import { createTrainSlice, type TrainSlice } from './state/trainSlice.ts';

export { getEngine } from './state/engine.ts';
export type { AdapterSlice, CompareSlice, DataSlice, ExportSlice, GgufSlice, GpuSlice, HistorySlice, ModelSlice, TrainSlice };

/**
 * One store built from typed slices, one per step (the GPU slice serves them all); actions are
 * callable outside React (`useStore.getState()`). A new step adds its slice here. The training
 * run's per-step numbers live apart, in `train/live.ts`.
 */
export type Store = GpuSlice & ModelSlice & DataSlice & AdapterSlice & TrainSlice & CompareSlice & ExportSlice & GgufSlice & HistorySlice;

export const useStore = create<Store>()((...a) => ({
  ...createGpuSlice(...a),
  ...createModelSlice(...a),
  ...createDataSlice(...a),
  ...createAdapterSlice(...a),
  ...createTrainSlice(...a),
  ...createCompareSlice(...a),
  ...createExportSlice(...a),
  ...createGgufSlice(...a),
  ...createHistorySlice(...a),
}));
