import { createBrowserGpu } from '../gpu/browser.ts';
import type { Gpu } from '../gpu/device.ts';
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

export function getGpu(): Promise<Gpu> {
  gpuPromise ??= createBrowserGpu().catch((e) => {
    gpuPromise = null;
    throw e;
  });
  return gpuPromise;
}

export function requireModel(what: string): LoadedModel {
  if (!session.model) throw Object.assign(new Error(`No model is loaded: choose a model in step 1 before you ${what}.`), { kind: 'no-model' });
  return session.model;
}

export function requireAdapter(what: string): HeldAdapter {
  if (!session.adapter) throw Object.assign(new Error(`There is no adapter yet: train one in step 4 or import one in step 6 before you ${what}.`), { kind: 'no-adapter' });
  return session.adapter;
}
