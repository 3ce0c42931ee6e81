import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { downloadFile, HubError, type DownloadProgress } from '../../src/io/hub.ts';
import { parseHubId, resolveUrl } from '../../src/io/hub-id.ts';
import { NodeHubCache } from '../../src/io/cache-node.ts';
import { BrowserHubCache } from '../../src/io/cache-browser.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
interface Seen { url: string; auth?: string }

async function serve(handler: Handler): Promise<{ server: Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const CONFIG = JSON.stringify({ model_type: 'llama', hidden_size: 64 });
const BIG = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) % 251);
const BIG_GZ = gzipSync(BIG);

let hub: Awaited<ReturnType<typeof serve>>;
let cdn: Awaited<ReturnType<typeof serve>>;
let flakyCount = 0;

beforeAll(async () => {
  cdn = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': BIG.length, 'content-type': 'application/octet-stream' });
    // Several writes so the client sees several chunks.
    for (let at = 0; at < BIG.length; at += 50_000) res.write(BIG.subarray(at, at + 50_000));
    res.end();
  });
  hub = await serve((req, res) => {
    const url = req.url ?? '';
    if (url === '/owner/name/resolve/main/config.json' || url === '/owner/name/resolve/v1.0/config.json') {
      res.writeHead(200, { 'content-length': Buffer.byteLength(CONFIG) }).end(CONFIG);
    } else if (url === '/owner/name/resolve/main/model.safetensors') {
      res.writeHead(302, { location: `${cdn.base}/cdn/model.safetensors?signed=1` }).end();
    } else if (url === '/gz/model/resolve/main/model.safetensors') {
      // Content-Length is the gzip size, as a server compressing on the fly answers.
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': BIG_GZ.length });
      for (let at = 0; at < BIG_GZ.length; at += 256) res.write(BIG_GZ.subarray(at, at + 256));
      res.end();
    } else if (url.startsWith('/gated/model/')) {
      res.writeHead(req.headers.authorization ? 403 : 401).end('{"error":"Access restricted"}');
    } else if (url === '/flaky/model/resolve/main/config.json') {
      flakyCount += 1;
      if (flakyCount === 1) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-length': Buffer.byteLength(CONFIG) }).end(CONFIG);
    } else if (url.startsWith('/down/')) {
      res.writeHead(500).end('oops');
    } else {
      res.writeHead(404).end('{"error":"Entry not found"}');
    }
  });
});

afterAll(async () => {
  await new Promise((r) => hub.server.close(r));
  await new Promise((r) => cdn.server.close(r));
});

const fast = () => ({ endpoint: hub.base, retryDelayMs: 1 });

async function hubErrorOf(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

describe('parseHubId and resolveUrl', () => {
  it('parses ids with and without a revision', () => {
    expect(parseHubId('hf:HuggingFaceTB/SmolLM2-135M')).toEqual({ owner: 'HuggingFaceTB', name: 'SmolLM2-135M' });
    expect(parseHubId('hf:karpathy/tinyllamas@refs/pr/1')).toEqual({ owner: 'karpathy', name: 'tinyllamas', revision: 'refs/pr/1' });
  });

  it('refuses malformed ids with the expected form in the message', () => {
    for (const id of ['owner/name', 'hf:owner', 'hf:a/b/c', 'hf:-a/b', 'hf:a/b..c', 'hf:a/b@', 'hf:a/b@x/../y', 'hf:a/b c']) {
      expect(() => parseHubId(id)).toThrow(/is not a Hugging Face model id: .* Write it as hf:owner\/name/);
    }
  });

  it('builds resolve URLs with encoded revision and path', () => {
    expect(resolveUrl({ owner: 'o', name: 'n' }, 'config.json')).toBe('https://huggingface.co/o/n/resolve/main/config.json');
    expect(resolveUrl({ owner: 'o', name: 'n', revision: 'refs/pr/1' }, 'onnx/a b.json', 'http://x/')).toBe('http://x/o/n/resolve/refs%2Fpr%2F1/onnx/a%20b.json');
    expect(() => resolveUrl({ owner: 'o', name: 'n' }, '../secret')).toThrow(/not a file path inside a repository/);
  });
});

describe('downloadFile against a local Hub', () => {
  it('downloads a file, with a revision and a bearer token', async () => {
    const before = hub.seen.length;
    const bytes = await downloadFile('hf:owner/name@v1.0', 'config.json', { ...fast(), token: 'hf_secret' });
    expect(new TextDecoder().decode(bytes)).toBe(CONFIG);
    expect(hub.seen.slice(before)).toEqual([{ url: '/owner/name/resolve/v1.0/config.json', auth: 'Bearer hf_secret' }]);
  });

  it('follows a redirect to another server and streams progress events', async () => {
    const events: DownloadProgress[] = [];
    const cdnBefore = cdn.seen.length;
    const bytes = await downloadFile('hf:owner/name', 'model.safetensors', { ...fast(), token: 'hf_secret', onProgress: (e) => events.push(e) });
    expect(bytes).toEqual(BIG);
    const progress = events.filter((e) => e.status === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((e) => e.total === BIG.length && e.file === 'model.safetensors')).toBe(true);
    expect(progress.map((e) => e.loaded)).toEqual([...progress.map((e) => e.loaded)].sort((a, b) => a - b));
    expect(events[events.length - 1]).toEqual({ status: 'done', file: 'model.safetensors', loaded: BIG.length, total: BIG.length });
    // The token goes to the Hub only, never to the other origin the Hub redirected to.
    expect(cdn.seen.slice(cdnBefore)).toEqual([{ url: '/cdn/model.safetensors?signed=1', auth: undefined }]);
  });

  it('reports an unknown total (0) for a gzip body, whose Content-Length is the compressed size', async () => {
    expect(BIG_GZ.length).toBeLessThan(BIG.length / 10);
    const events: DownloadProgress[] = [];
    const bytes = await downloadFile('hf:gz/model', 'model.safetensors', { ...fast(), onProgress: (e) => events.push(e) });
    // fetch decodes the gzip: the bytes are the original file, byte for byte
    expect(bytes).toEqual(BIG);
    const progress = events.filter((e) => e.status === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((e) => e.total)).toEqual(progress.map(() => 0));
    expect(progress[progress.length - 1].loaded).toBe(BIG.length);
    expect(events[events.length - 1]).toEqual({ status: 'done', file: 'model.safetensors', loaded: BIG.length, total: BIG.length });
  });

  it('reports 404 once, without retrying', async () => {
    const before = hub.seen.length;
    const err = await hubErrorOf(downloadFile('hf:owner/name', 'missing.json', fast()));
    expect([err.kind, err.status]).toEqual(['not-found', 404]);
    expect(err.message).toMatch(/owner\/name: missing.json was not found \(HTTP 404\): check the model name, the revision 'main'/);
    expect(hub.seen.length - before).toBe(1);
  });

  it('explains 401 (gated, no token) and 403 (token refused)', async () => {
    const e401 = await hubErrorOf(downloadFile('hf:gated/model', 'config.json', fast()));
    expect([e401.kind, e401.status]).toEqual(['auth', 401]);
    expect(e401.message).toMatch(/gated or private .* accept its licence on the Hub and pass an access token/);
    const e403 = await hubErrorOf(downloadFile('hf:gated/model', 'config.json', { ...fast(), token: 'bad' }));
    expect([e403.kind, e403.status]).toEqual(['auth', 403]);
    expect(e403.message).toMatch(/access token was refused/);
  });

  it('retries after a 503 and then succeeds', async () => {
    flakyCount = 0;
    const bytes = await downloadFile('hf:flaky/model', 'config.json', fast());
    expect(new TextDecoder().decode(bytes)).toBe(CONFIG);
    expect(flakyCount).toBe(2);
  });

  it('gives up on persistent 5xx after the configured retries', async () => {
    const before = hub.seen.length;
    const err = await hubErrorOf(downloadFile('hf:down/model', 'config.json', { ...fast(), retries: 2 }));
    expect([err.kind, err.status]).toEqual(['server', 500]);
    expect(err.message).toMatch(/HTTP 500 .* \(gave up after 3 attempts\)/);
    expect(hub.seen.length - before).toBe(3);
  });

  it('reports a network failure (nothing listening) as offline or blocked', async () => {
    const closed = await serve(() => undefined);
    await new Promise((r) => closed.server.close(r));
    const err = await hubErrorOf(downloadFile('hf:owner/name', 'config.json', { endpoint: closed.base, retries: 1, retryDelayMs: 1 }));
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/could not download config.json from http:\/\/127.0.0.1:\d+ .*offline, or a firewall, proxy or CORS policy/);
  });
});

describe('caches', () => {
  it('node cache: the second download makes no request; files are renamed into place', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tsugiki-hub-'));
    try {
      const cache = new NodeHubCache(root);
      const before = hub.seen.length;
      const first = await downloadFile('hf:owner/name', 'config.json', { ...fast(), cache });
      const events: DownloadProgress[] = [];
      const second = await downloadFile('hf:owner/name', 'config.json', { ...fast(), cache, onProgress: (e) => events.push(e) });
      expect(second).toEqual(first);
      expect(hub.seen.length - before).toBe(1);
      expect(events).toEqual([{ status: 'done', file: 'config.json', loaded: first.length, total: first.length }]);
      expect(await cache.list()).toEqual([{ key: 'owner/name@main/config.json', bytes: Buffer.byteLength(CONFIG) }]);
      expect(await readdir(join(root, 'owner'))).toEqual(['name%40main']);
      expect(await readdir(join(root, 'owner', 'name%40main'))).toEqual(['config.json']);
      await expect(cache.put('a/../b', new Uint8Array(1))).rejects.toThrow(/'\.\.' segment/);
      await cache.clear();
      expect(await cache.list()).toEqual([]);
      expect(await cache.get('owner/name@main/config.json')).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('browser cache: stores, lists and clears through Cache Storage', async () => {
    const cache = new BrowserHubCache(new MemoryCacheStorage() as unknown as CacheStorage);
    const before = hub.seen.length;
    await downloadFile('hf:owner/name', 'config.json', { ...fast(), cache });
    const again = await downloadFile('hf:owner/name', 'config.json', { ...fast(), cache });
    expect(new TextDecoder().decode(again)).toBe(CONFIG);
    expect(hub.seen.length - before).toBe(1);
    await cache.put('o/n@main/dir/w x.bin', new Uint8Array([1, 2, 3]));
    expect(await cache.list()).toEqual([
      { key: 'o/n@main/dir/w x.bin', bytes: 3 },
      { key: 'owner/name@main/config.json', bytes: Buffer.byteLength(CONFIG) },
    ]);
    expect(Array.from((await cache.get('o/n@main/dir/w x.bin')) ?? [])).toEqual([1, 2, 3]);
    await cache.clear();
    expect(await cache.list()).toEqual([]);
  });
});

/** An in-memory CacheStorage with the parts of the Cache API the browser cache uses. */
class MemoryCacheStorage {
  private caches = new Map<string, Map<string, { body: ArrayBuffer; headers: Headers }>>();
  async open(name: string) {
    let store = this.caches.get(name);
    if (!store) this.caches.set(name, (store = new Map()));
    const s = store;
    return {
      match: async (req: RequestInfo) => {
        const hit = s.get(typeof req === 'string' ? req : req.url);
        return hit ? new Response(hit.body.slice(0), { headers: hit.headers }) : undefined;
      },
      put: async (req: RequestInfo, res: Response) => {
        s.set(typeof req === 'string' ? req : req.url, { body: await res.arrayBuffer(), headers: res.headers });
      },
      keys: async () => [...s.keys()].map((u) => new Request(u)),
    };
  }
  async delete(name: string) {
    return this.caches.delete(name);
  }
}
