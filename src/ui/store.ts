import { create, type StateCreator } from 'zustand';
import type { AdapterSummary } from '../gpu/device.ts';
import type { SelfTestResult } from '../gpu/self-test.ts';
import { EngineError, startEngine, type EngineClient } from '../worker/client.ts';

let engine: EngineClient | null = null;
/** The single engine worker; created on first use so tests and SSR never start one. */
export function getEngine(): EngineClient {
  engine ??= startEngine();
  return engine;
}

export interface GpuSlice {
  gpu:
    | { status: 'idle' | 'checking' }
    | { status: 'ready'; name: string; adapter: AdapterSummary }
    | { status: 'unavailable'; message: string };
  selfTest: { status: 'idle' | 'running' } | { status: 'done'; result: SelfTestResult } | { status: 'failed'; message: string };
  detectGpu: () => Promise<void>;
  runSelfTest: () => Promise<void>;
}

const createGpuSlice: StateCreator<Store, [], [], GpuSlice> = (set) => ({
  gpu: { status: 'idle' },
  selfTest: { status: 'idle' },
  detectGpu: async () => {
    set({ gpu: { status: 'checking' } });
    try {
      const info = await getEngine().call('gpu-info', {});
      set({ gpu: { status: 'ready', ...info } });
    } catch (e) {
      set({ gpu: { status: 'unavailable', message: (e as EngineError).message } });
    }
  },
  runSelfTest: async () => {
    set({ selfTest: { status: 'running' } });
    try {
      set({ selfTest: { status: 'done', result: await getEngine().call('self-test', {}) } });
    } catch (e) {
      set({ selfTest: { status: 'failed', message: (e as Error).message } });
    }
  },
});

/** One store built from typed slices; actions are callable outside React (`useStore.getState()`). */
export type Store = GpuSlice;

export const useStore = create<Store>()((...a) => ({
  ...createGpuSlice(...a),
}));
