/**
 * What the page stores next to the worker's checkpoint so that a reload can resume the same run:
 * the dataset file as read, its column mapping and split, the settings, and the model's name.
 * Kept in the browser's storage with the checkpoint (never sent anywhere).
 */
import { openRunStorage, type RunStorage } from '../../train/storage-browser.ts';
import type { TrainOptions } from '../../train/options.ts';

export const RUN_RECORD_FILE = 'run.json';
export const RUN_DATA_FILE = 'dataset.bin';

export interface RunRecord {
  modelName: string;
  dataFile: string;
  inputColumn: string;
  outputColumn: string;
  valPercent: number;
  splitSeed: number;
  options: TrainOptions;
  useChatTemplate: boolean;
  checkpointEvery: number;
  totalSteps: number;
  /** The step of the last saved checkpoint; null until one is saved. */
  checkpointStep: number | null;
}

let storage: Promise<RunStorage> | null = null;

export function runStorage(): Promise<RunStorage> {
  storage ??= openRunStorage().catch((e) => {
    storage = null;
    throw e;
  });
  return storage;
}

export async function writeRunRecord(record: RunRecord, data?: Uint8Array): Promise<void> {
  const s = await runStorage();
  if (data) await s.put(RUN_DATA_FILE, data);
  await s.put(RUN_RECORD_FILE, new TextEncoder().encode(JSON.stringify(record)));
}

/** The saved run, with its dataset bytes; null when there is none (or it is unreadable). */
export async function readRunRecord(): Promise<{ record: RunRecord; data: Uint8Array } | null> {
  try {
    const s = await runStorage();
    const [json, data] = await Promise.all([s.get(RUN_RECORD_FILE), s.get(RUN_DATA_FILE)]);
    if (!json || !data) return null;
    return { record: JSON.parse(new TextDecoder().decode(json)) as RunRecord, data };
  } catch {
    return null;
  }
}

export async function clearRunRecord(): Promise<void> {
  await (await runStorage()).clear();
}
