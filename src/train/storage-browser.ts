/**
 * Training checkpoints (and the run history) in the browser's own storage, so a reload does not
 * lose a run: the Origin Private File System (a folder per use: `tsugiki-run` for the run in
 * progress, `tsugiki-history` for finished runs) where the browser has it, IndexedDB otherwise
 * (one object store; keys of the run folder are bare file names, others `folder/name`).
 * Works on the page and in workers alike. Nothing here leaves the computer.
 *
 * A full disk (QuotaExceededError, in either backend) is raised as StorageFullError, so the
 * trainer can go on without checkpoints and say so.
 */

export const RUN_FOLDER = 'tsugiki-run';
const DB_NAME = 'tsugiki';
const DB_STORE = 'run-files';

export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(file: string, bytes: number) {
    super(`the browser's storage is full: the ${(bytes / 1024 ** 2).toFixed(1)} MB ${file} could not be saved; free space (clear the model cache in step 1, or site data in the browser settings) to keep checkpoints`);
  }
}

export interface RunStorage {
  readonly backend: 'opfs' | 'indexeddb';
  put(name: string, bytes: Uint8Array): Promise<void>;
  get(name: string): Promise<Uint8Array | null>;
  /** Removes one file (nothing when it is not there). */
  remove(name: string): Promise<void>;
  /** Removes every file of the folder. */
  clear(): Promise<void>;
}

const isQuota = (e: unknown) => e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);

const notFound = (e: unknown) => e instanceof DOMException && e.name === 'NotFoundError';

class OpfsStorage implements RunStorage {
  readonly backend = 'opfs' as const;
  constructor(
    private readonly root: FileSystemDirectoryHandle,
    private readonly name: string,
  ) {}

  private folder(): Promise<FileSystemDirectoryHandle> {
    return this.root.getDirectoryHandle(this.name, { create: true });
  }

  async remove(name: string): Promise<void> {
    await (await this.folder()).removeEntry(name).catch((e: unknown) => {
      if (!notFound(e)) throw e;
    });
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const handle = await (await this.folder()).getFileHandle(name, { create: true });
    const writable = await handle.createWritable();
    try {
      await writable.write(new Uint8Array(bytes));
      await writable.close();
    } catch (e) {
      await writable.abort().catch(() => undefined);
      if (isQuota(e)) throw new StorageFullError(name, bytes.length);
      throw e;
    }
  }

  async get(name: string): Promise<Uint8Array | null> {
    try {
      const handle = await (await this.folder()).getFileHandle(name);
      return new Uint8Array(await (await handle.getFile()).arrayBuffer());
    } catch (e) {
      if (e instanceof DOMException && e.name === 'NotFoundError') return null;
      throw e;
    }
  }

  async clear(): Promise<void> {
    await this.root.removeEntry(this.name, { recursive: true }).catch((e: unknown) => {
      if (!notFound(e)) throw e;
    });
  }
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

class IdbStorage implements RunStorage {
  readonly backend = 'indexeddb' as const;
  /** '' for the run folder (its keys predate folders), else `folder/`. */
  private readonly prefix: string;
  constructor(
    private readonly db: IDBDatabase,
    folder: string,
  ) {
    this.prefix = folder === RUN_FOLDER ? '' : `${folder}/`;
  }

  private mine(key: IDBValidKey): boolean {
    return typeof key === 'string' && (this.prefix === '' ? !key.includes('/') : key.startsWith(this.prefix));
  }

  async remove(name: string): Promise<void> {
    await this.run('readwrite', (s) => s.delete(this.prefix + name));
  }

  private async run<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const tx = this.db.transaction(DB_STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
      tx.onerror = () => reject(tx.error);
    });
    const result = await request(f(tx.objectStore(DB_STORE)));
    await done;
    return result;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.run('readwrite', (s) => s.put(new Uint8Array(bytes), this.prefix + name));
    } catch (e) {
      if (isQuota(e)) throw new StorageFullError(name, bytes.length);
      throw e;
    }
  }

  async get(name: string): Promise<Uint8Array | null> {
    const v = await this.run('readonly', (s) => s.get(this.prefix + name) as IDBRequest<Uint8Array | undefined>);
    return v ? new Uint8Array(v) : null;
  }

  async clear(): Promise<void> {
    const keys = await this.run('readonly', (s) => s.getAllKeys());
    for (const k of keys.filter((key) => this.mine(key))) await this.run('readwrite', (s) => s.delete(k));
  }
}

async function openIdb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(DB_STORE);
  return request(open);
}

/**
 * The run's storage: OPFS when available (`prefer` forces a backend, for tests), else IndexedDB.
 * Throws a readable error when the browser offers neither (private windows of some browsers).
 */
export async function openRunStorage(prefer?: 'opfs' | 'indexeddb', folder = RUN_FOLDER): Promise<RunStorage> {
  if (prefer !== 'indexeddb') {
    try {
      const root = await navigator.storage.getDirectory();
      return new OpfsStorage(root, folder);
    } catch (e) {
      if (prefer === 'opfs') throw e;
    }
  }
  try {
    return new IdbStorage(await openIdb(), folder);
  } catch (e) {
    throw new Error(`this browser keeps no files for the page (no Origin Private File System, IndexedDB failed: ${(e as Error).message}); training works, but a reload loses the run`);
  }
}
