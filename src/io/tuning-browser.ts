/**
 * Matmul tunings in the browser's own storage (the run storage's `tsugiki-tuning` folder, one
 * JSON file by adapter name), so the studio times the kernels once per GPU. Anything unreadable
 * counts as no tuning: the search runs again.
 */
import { parseTuning, type MatmulTuning } from '../kernels/matmul-tune.ts';
import { openRunStorage } from '../train/storage-browser.ts';

const FOLDER = 'tsugiki-tuning';
const FILE = 'matmul.json';

async function readAll(): Promise<Record<string, unknown>> {
  const bytes = await (await openRunStorage(undefined, FOLDER)).get(FILE);
  if (!bytes) return {};
  const v = JSON.parse(new TextDecoder().decode(bytes));
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

export async function readBrowserTuning(adapter: string): Promise<MatmulTuning | null> {
  try {
    return parseTuning((await readAll())[adapter]);
  } catch {
    return null;
  }
}

/** Keeps `tuning` for `adapter`; throws (StorageFullError or the browser's error) when it cannot. */
export async function writeBrowserTuning(adapter: string, tuning: MatmulTuning): Promise<void> {
  const all = await readAll().catch(() => ({}));
  const storage = await openRunStorage(undefined, FOLDER);
  await storage.put(FILE, new TextEncoder().encode(JSON.stringify({ ...all, [adapter]: tuning })));
}
