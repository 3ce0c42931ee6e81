import { createBrowserGpu } from '../gpu/browser.ts';
import { adapterName, type Gpu } from '../gpu/device.ts';
import { readBrowserTuning, writeBrowserTuning } from '../io/tuning-browser.ts';
import { applyTuning, tuneMatmul } from '../kernels/matmul-tune.ts';
import type { AdapterConfig } from '../lora/config.ts';
import type { AdapterLayout } from '../lora/layout.ts';
import type { LoadedModel } from '../model/load-source.ts';
import type { TrainOptions } from '../train/options.ts';
import type { FinalEvaluation } from './protocol.ts';

/** The adapter the worker holds: trained here or imported, with its flat parameters (CPU copy). */
export interface HeldAdapter {
  cfg: AdapterConfig;
  layout: AdapterLayout;
  params: Float32Array;
  source: 'trained' | 'imported';
}

/**
 * What the engine worker keeps between calls: the GPU, the loaded model, the current adapter.
 * One model and one adapter at a time; loading another model drops the adapter.
 */
export const session: {
  model: LoadedModel | null;
  modelName: string;
  adapter: HeldAdapter | null;
  /** The loaded model's files by name (a merged export copies config and tokenizer files). */
  files: Record<string, Uint8Array> | null;
  /** `owner/name` when the model was downloaded from the Hugging Face Hub, else null. */
  hubRepo: string | null;
  /** The numbers of the last training run, for the model card. */
  lastRun: { trainRows: number; valRows: number; finalLoss: number | null; valLoss: number | null; accuracy: number | null; options: TrainOptions; evaluation: FinalEvaluation | null } | null;
} = { model: null, modelName: '', adapter: null, files: null, hubRepo: null, lastRun: null };

let gpuPromise: Promise<Gpu> | null = null;

/** Whether this GPU's matmul choices were timed (now or in an earlier visit, kept in the browser). */
let tuned = false;

export function getGpu(): Promise<Gpu> {
  gpuPromise ??= createBrowserGpu()
    .then(async (gpu) => {
      const stored = await readBrowserTuning(adapterName(gpu.adapter));
      if (stored) applyTuning(gpu, stored);
      tuned = stored !== null;
      return gpu;
    })
    .catch((e) => {
      gpuPromise = null;
      throw e;
    });
  return gpuPromise;
}

/**
 * The first training run on a GPU times the matmul kernel choices (src/kernels/matmul-tune.ts)
 * and keeps the fastest in the browser; `starting` is called before the timing begins. A storage
 * that cannot keep it only means the timing runs again next visit.
 */
export async function ensureTuned(gpu: Gpu, starting: () => void, warn: (m: string) => void): Promise<void> {
  if (tuned) return;
  starting();
  const result = await tuneMatmul(gpu);
  tuned = true;
  await writeBrowserTuning(result.adapter, result.tuning).catch((e: Error) =>
    warn(`The kernel timings for this GPU could not be kept in the browser's storage (${e.message}); they will be measured again next visit.`),
  );
}

export function requireModel(what: string): LoadedModel {
  if (!session.model) throw Object.assign(new Error(`No model is loaded: choose a model in step 1 before you ${what}.`), { kind: 'no-model' });
  return session.model;
}

export function requireAdapter(what: string): HeldAdapter {
  if (!session.adapter) throw Object.assign(new Error(`There is no adapter yet: train one in step 4 or import one in step 6 before you ${what}.`), { kind: 'no-adapter' });
  return session.adapter;
}
