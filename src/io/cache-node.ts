/**
 * Hub cache in a folder (default `~/.cache/tsugiki/hub`), for the CLI and tests. A key
 * `owner/name@rev/dir/file` is stored at `<root>/owner/name%40rev/dir/file` (each segment
 * URI-encoded). Files are written to a temporary name and renamed, so a crash never leaves a
 * half-written file under a real key.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HubCache, HubCacheEntry } from './hub-cache.ts';

/** encodeURIComponent never produces "%t", so temporary names cannot collide with keys. */
const TEMP_MARK = '%tmp-';

export function defaultNodeCacheDir(): string {
  return join(homedir(), '.cache', 'tsugiki', 'hub');
}

function keyToSegments(key: string): string[] {
  const segments = key.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`cache key '${key}' has an empty, '.' or '..' segment; keys look like owner/name@revision/path`);
  }
  return segments.map(encodeURIComponent);
}

export class NodeHubCache implements HubCache {
  readonly root: string;

  constructor(root: string = defaultNodeCacheDir()) {
    this.root = root;
  }

  private pathOf(key: string): string {
    return join(this.root, ...keyToSegments(key));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}${TEMP_MARK}${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await writeFile(temp, bytes);
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async list(): Promise<HubCacheEntry[]> {
    const out: HubCacheEntry[] = [];
    const walk = async (dir: string, prefix: string[]): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const name of names.sort()) {
        if (name.includes(TEMP_MARK)) continue;
        const full = join(dir, name);
        const info = await stat(full);
        const segments = [...prefix, decodeURIComponent(name)];
        if (info.isDirectory()) await walk(full, segments);
        else out.push({ key: segments.join('/'), bytes: info.size });
      }
    };
    await walk(this.root, []);
    return out;
  }

  async clear(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
