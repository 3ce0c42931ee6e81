/**
 * The run history: every finished (or stopped) run of this browser, kept in the browser's storage
 * (OPFS, else IndexedDB; folder `tsugiki-history`) so it survives a reload. One index file lists
 * the runs with their settings, data fingerprint, loss curves and final evaluation; each run's
 * adapter is a zip of its own (the same PEFT zip the Export step downloads).
 *
 * Writing order keeps what is stored safe when the storage is full: the adapter first, the index
 * last, so a failed write leaves the index (and every run already in it) as it was.
 */
import { openRunStorage, StorageFullError, type RunStorage } from '../../train/storage-browser.ts';
import type { TrainOptions } from '../../train/options.ts';
import type { FinalEvaluation } from '../../worker/protocol.ts';

export const HISTORY_FOLDER = 'tsugiki-history';
export const HISTORY_INDEX = 'runs.json';

export interface HistoryRun {
  id: string;
  /** ISO time the run ended. */
  endedAt: string;
  modelName: string;
  dataFile: string;
  /** dataFingerprint() of the rows trained on (rows count and a hash). */
  dataFingerprint: string;
  trainRows: number;
  valRows: number;
  options: TrainOptions;
  status: 'done' | 'stopped' | 'early-stopped' | 'non-finite';
  steps: number;
  totalSteps: number;
  /** [step, training loss] and [step, validation loss]. */
  losses: [number, number][];
  valLosses: [number, number][];
  finalLoss: number | null;
  valLoss: number | null;
  evaluation: FinalEvaluation | null;
  /** Bytes of the stored adapter zip. */
  adapterBytes: number;
}

export class HistoryFullError extends Error {
  override readonly name = 'HistoryFullError';
}

const adapterFile = (id: string) => `${id}.zip`;

let opened: Promise<RunStorage> | null = null;

export function historyStorage(): Promise<RunStorage> {
  opened ??= openRunStorage(undefined, HISTORY_FOLDER).catch((e) => {
    opened = null;
    throw e;
  });
  return opened;
}

/** The runs, newest first; an unreadable index reads as empty (nothing is overwritten by reading). */
export async function listRuns(storage: RunStorage): Promise<HistoryRun[]> {
  const bytes = await storage.get(HISTORY_INDEX);
  if (!bytes) return [];
  try {
    const runs = JSON.parse(new TextDecoder().decode(bytes)) as HistoryRun[];
    return Array.isArray(runs) ? runs : [];
  } catch {
    return [];
  }
}

async function writeIndex(storage: RunStorage, runs: HistoryRun[]): Promise<void> {
  await storage.put(HISTORY_INDEX, new TextEncoder().encode(JSON.stringify(runs)));
}

/** Adds a run and its adapter; a full storage throws HistoryFullError and leaves the history as it was. */
export async function addRun(storage: RunStorage, run: HistoryRun, adapterZip: Uint8Array): Promise<HistoryRun[]> {
  const runs = await listRuns(storage);
  const next = [{ ...run, adapterBytes: adapterZip.length }, ...runs.filter((r) => r.id !== run.id)];
  try {
    await storage.put(adapterFile(run.id), adapterZip);
    await writeIndex(storage, next);
  } catch (e) {
    await storage.remove(adapterFile(run.id)).catch(() => undefined);
    if (e instanceof StorageFullError) {
      throw new HistoryFullError(
        `This run was not added to the run history: ${e.message}. The ${runs.length} run${runs.length === 1 ? '' : 's'} already in the history ${runs.length === 1 ? 'is' : 'are'} kept; delete old runs below, or download this adapter in step 6.`,
      );
    }
    throw e;
  }
  return next;
}

export async function deleteRun(storage: RunStorage, id: string): Promise<HistoryRun[]> {
  const next = (await listRuns(storage)).filter((r) => r.id !== id);
  await writeIndex(storage, next);
  await storage.remove(adapterFile(id));
  return next;
}

export async function readRunAdapter(storage: RunStorage, id: string): Promise<Uint8Array | null> {
  return storage.get(adapterFile(id));
}

/** A short id from the time and a counter (unique within a browser). */
export function newRunId(now = Date.now()): string {
  return `run-${now.toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
