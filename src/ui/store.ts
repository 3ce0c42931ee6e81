import { create } from 'zustand';
import { createAdapterSlice, type AdapterSlice } from './state/adapterSlice.ts';
import { createDataSlice, type DataSlice } from './state/dataSlice.ts';
import { createGpuSlice, type GpuSlice } from './state/gpuSlice.ts';
import { createModelSlice, type ModelSlice } from './state/modelSlice.ts';

export { getEngine } from './state/engine.ts';
export type { AdapterSlice, DataSlice, GpuSlice, ModelSlice };

/**
 * One store built from typed slices, one per step (the GPU slice serves them all); actions are
 * callable outside React (`useStore.getState()`). A new step adds its slice here.
 */
export type Store = GpuSlice & ModelSlice & DataSlice & AdapterSlice;

export const useStore = create<Store>()((...a) => ({
  ...createGpuSlice(...a),
  ...createModelSlice(...a),
  ...createDataSlice(...a),
  ...createAdapterSlice(...a),
}));
