/**
 * Hub cache in the browser's Cache Storage (`caches.open('tsugiki-hub')`), which survives reloads
 * and holds large files. Keys become request URLs under a fixed private origin.
 */
import type { HubCache, HubCacheEntry } from './hub-cache.ts';

export const BROWSER_CACHE_NAME = 'tsugiki-hub';
const ORIGIN = 'https://tsugiki.cache/';

function keyToUrl(key: string): string {
  return ORIGIN + key.split('/').map(encodeURIComponent).join('/');
}

function urlToKey(url: string): string | undefined {
  if (!url.startsWith(ORIGIN)) return undefined;
  return url.slice(ORIGIN.length).split('/').map(decodeURIComponent).join('/');
}

export class BrowserHubCache implements HubCache {
  private readonly storage: CacheStorage;
  private readonly name: string;

  /** `storage` defaults to the global `caches`; pass another for tests or a worker's scope. */
  constructor(storage?: CacheStorage, name = BROWSER_CACHE_NAME) {
    const found = storage ?? (globalThis as { caches?: CacheStorage }).caches;
    if (!found) throw new Error('Cache Storage is not available here (it needs a secure context: https or localhost); downloads cannot be cached');
    this.storage = found;
    this.name = name;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const cache = await this.storage.open(this.name);
    const res = await cache.match(keyToUrl(key));
    return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const cache = await this.storage.open(this.name);
    const body = new Uint8Array(bytes).buffer;
    await cache.put(keyToUrl(key), new Response(body, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    }));
  }

  async list(): Promise<HubCacheEntry[]> {
    const cache = await this.storage.open(this.name);
    const out: HubCacheEntry[] = [];
    for (const req of await cache.keys()) {
      const key = urlToKey(req.url);
      if (key === undefined) continue;
      const res = await cache.match(req);
      const declared = Number(res?.headers.get('content-length') ?? NaN);
      const size = Number.isFinite(declared) ? declared : (await res?.arrayBuffer())?.byteLength ?? 0;
      out.push({ key, bytes: size });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async clear(): Promise<void> {
    await this.storage.delete(this.name);
  }
}
