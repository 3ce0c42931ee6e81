/**
 * Downloads files from the Hugging Face Hub: cache first, then `fetch` with streaming progress,
 * retries with exponential backoff on network errors and 5xx answers (never on 4xx), and errors
 * that tell the user what to do (gated model, missing file, offline).
 */
import type { HubCache } from './hub-cache.ts';
import { cacheKey, DEFAULT_ENDPOINT, parseHubId, repoLabel, resolveUrl, type HubRepo } from './hub-id.ts';

export interface DownloadProgress {
  status: 'progress' | 'done';
  /** The path inside the repository. */
  file: string;
  loaded: number;
  /** From Content-Length; 0 while unknown or when the body is content-encoded. In 'done' events it equals `loaded`. */
  total: number;
}

export interface DownloadOptions {
  cache?: HubCache;
  onProgress?: (event: DownloadProgress) => void;
  /** Told when the cache could not be written (the download itself still succeeds). */
  onWarning?: (message: string) => void;
  /** A Hugging Face access token, for gated or private repositories. */
  token?: string;
  endpoint?: string;
  fetch?: typeof fetch;
  /** Extra attempts after the first (default 3). */
  retries?: number;
  /** First backoff delay; doubles each retry (default 500 ms). */
  retryDelayMs?: number;
  signal?: AbortSignal;
}

export type HubErrorKind = 'auth' | 'not-found' | 'network' | 'server' | 'http';

export class HubError extends Error {
  override readonly name = 'HubError';
  readonly kind: HubErrorKind;
  readonly url: string;
  readonly status?: number;

  constructor(kind: HubErrorKind, url: string, message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.url = url;
    this.status = status;
  }
}

/** Thrown inside an attempt when trying again may help. */
class Retryable extends Error {
  constructor(readonly error: HubError) {
    super(error.message);
  }
}

function httpError(repo: HubRepo, path: string, url: string, status: number, hasToken: boolean, endpoint: string): HubError {
  const label = repoLabel(repo);
  const page = `${endpoint.replace(/\/+$/, '')}/${repo.owner}/${repo.name}`;
  if (status === 401 || status === 403) {
    const what = hasToken
      ? 'the access token was refused or has no access to this repository; check the token and that you accepted the licence'
      : 'the model is gated or private (the Hub also answers 401 for repositories that do not exist); if it exists, accept its licence on the Hub and pass an access token';
    return new HubError('auth', url, `${label}: ${path} needs permission (HTTP ${status}): ${what} (${page}).`, status);
  }
  if (status === 404) {
    return new HubError('not-found', url, `${label}: ${path} was not found (HTTP 404): check the model name, the revision '${repo.revision ?? 'main'}' and that the repository has this file (${page}).`, status);
  }
  if (status >= 500) return new HubError('server', url, `${label}: the Hub answered HTTP ${status} for ${path}; it may be busy or down, try again later.`, status);
  return new HubError('http', url, `${label}: downloading ${path} failed with HTTP ${status}.`, status);
}

function networkError(repo: HubRepo, path: string, url: string, cause: unknown): HubError {
  const detail = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new HubError('network', url, `${repoLabel(repo)}: could not download ${path} from ${new URL(url).origin} (${detail}): you may be offline, or a firewall, proxy or CORS policy blocked the request; check the connection and try again.`);
}

async function readBody(res: Response, path: string, onProgress: DownloadOptions['onProgress']): Promise<Uint8Array> {
  // With a Content-Encoding (gzip, br) the body arrives decoded and Content-Length is the encoded
  // size, so the total is unknown (0), as huggingface_hub reports it.
  const encoding = res.headers.get('content-encoding');
  const encoded = encoding !== null && encoding !== 'identity';
  const declared = encoded ? 0 : Number(res.headers.get('content-length') ?? '');
  const total = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      onProgress?.({ status: 'progress', file: path, loaded, total });
    }
  } else {
    const all = new Uint8Array(await res.arrayBuffer());
    chunks.push(all);
    loaded = all.length;
  }
  if (total > 0 && loaded < total) {
    throw new Error(`connection closed after ${loaded} of ${total} bytes`);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function attempt(repo: HubRepo, path: string, url: string, opts: DownloadOptions, endpoint: string): Promise<Uint8Array> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await doFetch(url, { headers, redirect: 'follow', signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new Retryable(networkError(repo, path, url, e));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const err = httpError(repo, path, url, res.status, Boolean(opts.token), endpoint);
    throw res.status >= 500 ? new Retryable(err) : err;
  }
  try {
    return await readBody(res, path, opts.onProgress);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new Retryable(networkError(repo, path, url, e));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Downloads one file of a Hub repository (`hf:owner/name[@rev]` or a parsed repo), cache first. */
export async function downloadFile(repo: string | HubRepo, path: string, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const parsed = typeof repo === 'string' ? parseHubId(repo.startsWith('hf:') ? repo : `hf:${repo}`) : repo;
  const endpoint = opts.endpoint ?? DEFAULT_ENDPOINT;
  const url = resolveUrl(parsed, path, endpoint);
  const key = cacheKey(parsed, path);
  const cached = await opts.cache?.get(key);
  if (cached) {
    opts.onProgress?.({ status: 'done', file: path, loaded: cached.length, total: cached.length });
    return cached;
  }
  const retries = opts.retries ?? 3;
  const baseDelay = opts.retryDelayMs ?? 500;
  for (let i = 0; ; i++) {
    try {
      const bytes = await attempt(parsed, path, url, opts, endpoint);
      opts.onProgress?.({ status: 'done', file: path, loaded: bytes.length, total: bytes.length });
      if (opts.cache) {
        await opts.cache.put(key, bytes).catch((e: unknown) => opts.onWarning?.(`could not cache ${key}: ${(e as Error).message}; it will be downloaded again next time`));
      }
      return bytes;
    } catch (e) {
      if (!(e instanceof Retryable)) throw e;
      if (i >= retries) {
        const suffix = i > 0 ? ` (gave up after ${i + 1} attempts)` : '';
        throw new HubError(e.error.kind, e.error.url, e.error.message + suffix, e.error.status);
      }
      await sleep(baseDelay * 2 ** i);
    }
  }
}
