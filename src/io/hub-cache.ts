/**
 * Where downloaded Hub files are kept between runs. Keys look like `owner/name@revision/path`
 * (see `cacheKey`); implementations: `cache-node.ts` (a folder) and `cache-browser.ts`
 * (Cache Storage).
 */
export interface HubCacheEntry {
  key: string;
  /** Size in bytes. */
  bytes: number;
}

export interface HubCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  list(): Promise<HubCacheEntry[]>;
  clear(): Promise<void>;
}
