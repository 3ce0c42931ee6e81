import { describe, expect, it } from 'vitest';
import { addRun, deleteRun, HistoryFullError, listRuns, readRunAdapter, type HistoryRun } from '../../src/ui/history/run-history.ts';
import { StorageFullError, type RunStorage } from '../../src/train/storage-browser.ts';
import { defaultTrainSettings } from '../../src/train/options.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';

/** An in-memory folder that refuses writes past `capacity` bytes, as a full browser storage does. */
class MemoryStorage implements RunStorage {
  readonly backend = 'indexeddb' as const;
  readonly files = new Map<string, Uint8Array>();
  constructor(private readonly capacity = Infinity) {}
  private used(except: string) {
    let n = 0;
    for (const [k, v] of this.files) if (k !== except) n += v.length;
    return n;
  }
  async put(name: string, bytes: Uint8Array) {
    if (this.used(name) + bytes.length > this.capacity) throw new StorageFullError(name, bytes.length);
    this.files.set(name, bytes.slice());
  }
  async get(name: string) {
    return this.files.get(name)?.slice() ?? null;
  }
  async remove(name: string) {
    this.files.delete(name);
  }
  async clear() {
    this.files.clear();
  }
}

const run = (id: string): HistoryRun => ({
  id, endedAt: '2026-01-01T00:00:00.000Z', modelName: 'stories260K.gguf', dataFile: 'spam.csv', dataFingerprint: '120:abcd1234',
  trainRows: 108, valRows: 12, options: { ...defaultTrainSettings(), adapter: defaultAdapterConfig('llama') }, status: 'done', steps: 3, totalSteps: 3,
  losses: [[1, 2.5], [2, 2.1], [3, 1.9]], valLosses: [[3, 2.0]], finalLoss: 1.9, valLoss: 2.0, evaluation: null, adapterBytes: 0,
});

describe('run history in the browser storage', () => {
  it('adds runs newest first with their adapters, deletes one, and reads back what was written', async () => {
    const s = new MemoryStorage();
    await addRun(s, run('a'), new Uint8Array([1, 2, 3]));
    await addRun(s, run('b'), new Uint8Array([4, 5]));
    const runs = await listRuns(s);
    expect(runs.map((r) => r.id)).toEqual(['b', 'a']);
    expect(runs[1].adapterBytes).toBe(3);
    expect(runs[1].losses).toEqual([[1, 2.5], [2, 2.1], [3, 1.9]]);
    expect(await readRunAdapter(s, 'b')).toEqual(new Uint8Array([4, 5]));
    await deleteRun(s, 'b');
    expect((await listRuns(s)).map((r) => r.id)).toEqual(['a']);
    expect(await readRunAdapter(s, 'b')).toBeNull();
  });

  it('a full storage refuses the new run with a clear message and loses nothing already stored', async () => {
    const s = new MemoryStorage(3000);
    await addRun(s, run('a'), new Uint8Array(100));
    const before = new Map(s.files);
    const err = await addRun(s, run('b'), new Uint8Array(5000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryFullError);
    expect((err as Error).message).toMatch(/not added to the run history: the browser's storage is full.*The 1 run already in the history is kept; delete old runs/);
    expect(s.files).toEqual(before); // the index and the first adapter as they were, no half-written file
    // the index itself not fitting is refused the same way, and the adapter just written is removed again
    const tight = new MemoryStorage(1200);
    await addRun(tight, run('a'), new Uint8Array(10));
    const err2 = await addRun(tight, run('b'), new Uint8Array(10)).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(HistoryFullError);
    expect((await listRuns(tight)).map((r) => r.id)).toEqual(['a']);
    expect(await readRunAdapter(tight, 'b')).toBeNull();
  });
});
