import type { StateCreator } from 'zustand';
import type { AdapterSummary } from '../../gpu/device.ts';
import type { SelfTestResult } from '../../gpu/self-test.ts';
import type { EngineError } from '../../worker/client.ts';
import { getEngine } from './engine.ts';
import type { Store } from '../store.ts';

export interface GpuSlice {
  gpu:
    | { status: 'idle' | 'checking' }
    | { status: 'ready'; name: string; adapter: AdapterSummary }
    | { status: 'unavailable'; message: string };
  selfTest: { status: 'idle' | 'running' } | { status: 'done'; result: SelfTestResult } | { status: 'failed'; message: string };
  detectGpu: () => Promise<void>;
  runSelfTest: () => Promise<void>;
}

export const createGpuSlice: StateCreator<Store, [], [], GpuSlice> = (set) => ({
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
