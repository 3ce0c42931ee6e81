import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../helpers/tiny-models.ts';
import { openStudio, SHOTS, type StudioPage } from './harness.ts';

/**
 * The model step downloads a curated model from the Hugging Face Hub, with the Hub played by
 * Playwright routes: the page keeps the Hub's real URLs (and its CSP), nothing leaves the machine.
 */
const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
const SMOL = 'HuggingFaceTB/SmolLM2-135M-Instruct';
const GATED = 'HuggingFaceTB/SmolLM2-360M-Instruct';
const OFFLINE = 'Qwen/Qwen2.5-0.5B-Instruct';
const HUB = 'https://huggingface.co';
const TOKEN = 'hf_studioTestToken0123456789';

/** A tiny random Llama (3 layers, 0.8 MB of F32 weights) with its byte-level tokenizer, in Hub layout. */
const FIXTURE = tinyModelFiles('llama', { config: { hidden_size: 64, intermediate_size: 256, num_hidden_layers: 3, head_dim: 16 }, seed: 7 });
const WEIGHTS = FIXTURE['model.safetensors'];

/** Parameter count read from the safetensors header: the sum over tensors of the product of their shape. */
function headerParams(bytes: Uint8Array): number {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { shape?: number[] }>;
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .reduce((sum, [, t]) => sum + (t.shape ?? []).reduce((a, b) => a * b, 1), 0);
}

/** The studio's byte format (binary units, two decimals under 10, one above), written out for the test. */
function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const kib = n / 1024;
  return kib < 1024 ? `${kib.toFixed(kib < 10 ? 2 : 1)} KiB` : `${(kib / 1024).toFixed(kib / 1024 < 10 ? 2 : 1)} MiB`;
}

const CORS = { 'access-control-allow-origin': '*' };

/**
 * Serves the fixture for `repo`'s files, 404 for any other, as the Hub does. (The real Hub
 * redirects large files to its CDN; Playwright routes only the first URL of a redirect chain, so
 * the weights are answered here directly.)
 */
function serveFixture(repo: string, hits: string[], missing: string[]) {
  return async (route: Route) => {
    const url = new URL(route.request().url());
    hits.push(url.href);
    const file = decodeURIComponent(url.pathname.slice(`/${repo}/resolve/main/`.length));
    const body = FIXTURE[file];
    if (!body) {
      missing.push(file);
      await route.fulfill({ status: 404, headers: { ...CORS, 'x-error-code': 'EntryNotFound' }, body: 'Entry not found' });
      return;
    }
    await route.fulfill({ status: 200, headers: { ...CORS, 'content-type': 'application/octet-stream', 'content-length': String(body.length) }, body: Buffer.from(body) });
  };
}

interface ProgressSeen {
  value: number;
  max: number;
  text: string;
}

/** Records every state of the download progress bar the page renders, from now on. */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: { value: number; max: number; text: string }[] = [];
    (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
    new MutationObserver(() => {
      const box = document.querySelector('[data-testid="model-progress"]');
      const bar = box?.querySelector('progress');
      if (!box || !bar) return;
      const entry = { value: bar.position < 0 ? -1 : bar.value, max: bar.max, text: box.querySelector('.hint')?.textContent ?? '' };
      const last = seen[seen.length - 1];
      if (!last || last.value !== entry.value || last.text !== entry.text) seen.push(entry);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

describe('studio model step downloading from the Hugging Face Hub in Chromium', () => {
  let studio: StudioPage;
  let page: Page;
  const hits: string[] = [];
  const missing: string[] = [];
  const requests: string[] = [];
  const gatedHits: string[] = [];
  const offlineHits: string[] = [];
  const tokenHits: string[] = [];
  /** Every request with the headers and body it carried, to look for the token. */
  const sent: { url: string; headers: Record<string, string>; body: string }[] = [];

  const curated = (repo: string) => page.getByTestId('curated-model').filter({ hasText: repo });
  const loadedName = () => page.getByTestId('model-loaded-name').textContent();
  const loadFromDisk = async () => {
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByText('Model: stories260K.gguf').waitFor({ timeout: 30_000 });
  };

  beforeAll(async () => {
    studio = await openStudio();
    page = studio.page;
    page.on('request', (r) => {
      requests.push(r.url());
      sent.push({ url: r.url(), headers: r.headers(), body: r.postData() ?? '' });
    });
    await page.route(`${HUB}/${SMOL}/resolve/main/**`, serveFixture(SMOL, hits, missing));
    await page.route(`${HUB}/${GATED}/**`, async (route) => {
      gatedHits.push(route.request().url());
      await route.fulfill({ status: 401, headers: { ...CORS, 'x-error-code': 'GatedRepo' }, body: 'Access to model is restricted.' });
    });
    await page.route(`${HUB}/${OFFLINE}/**`, async (route) => {
      offlineHits.push(route.request().url());
      await route.abort('internetdisconnected');
    });
  });

  afterAll(() => studio?.close());

  it('downloads the first curated model with a moving progress bar and shows its facts', async () => {
    await watchProgress(page);
    await curated(SMOL).getByRole('button', { name: 'Download and load' }).click();
    await page.getByTestId('model-facts').waitFor({ timeout: 30_000 });
    expect(await loadedName()).toBe(SMOL);
    // config.json: llama, 3 layers, hidden 64, 4 heads / 2 KV heads, vocabulary 100
    expect(await page.getByTestId('model-arch').textContent()).toBe('llama (llama), 3 layers, hidden size 64, 4 heads (2 key/value), vocabulary 100');
    expect(await page.getByTestId('model-params').textContent()).toBe(headerParams(WEIGHTS).toLocaleString('en-US'));
    expect(await page.getByTestId('model-progress').count()).toBe(0);

    const files = ['config.json', 'tokenizer_config.json', 'tokenizer.json', 'model.safetensors'];
    // the curated list names exactly the files the repository has: nothing was answered 404
    expect(hits.map((u) => u.split('/resolve/main/')[1])).toEqual(files);
    expect(missing).toEqual([]);

    // Playwright hands the page each routed body in one piece, so the bar steps file by file:
    // each file at its Content-Length, then the weights are read, then the bar is gone.
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: ProgressSeen[] }).progressSeen);
    const reading = { value: -1, max: 1, text: `Reading ${SMOL} and checking its weights…` };
    const arrived = (f: string) => ({ value: FIXTURE[f].length, max: FIXTURE[f].length, text: `${f}: ${bytesText(FIXTURE[f].length)} of ${bytesText(FIXTURE[f].length)}` });
    expect(seen).toEqual([reading, ...files.map(arrived), reading]);
  });

  it('lists the downloaded files with their sizes in the browser cache', async () => {
    const list = page.getByTestId('cache-list');
    const total = Object.values(FIXTURE).reduce((n, b) => n + b.length, 0);
    await list.locator('summary').getByText(bytesText(total)).waitFor();
    await list.locator('summary').click();
    const rows = await list.locator('tbody tr').allTextContents();
    const expected = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `${SMOL}@main/${f}${bytesText(FIXTURE[f].length)}`);
    expect(rows).toEqual(expected);
  });

  it('loads the model again from Cache Storage without asking the Hub', async () => {
    await loadFromDisk();
    const before = hits.length;
    expect(await curated(SMOL).textContent()).toContain('(already in this browser)');
    await curated(SMOL).getByRole('button', { name: 'Load from this browser' }).click();
    await page.getByText(`Model: ${SMOL}`).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('model-arch').textContent()).toContain('3 layers');
    expect(hits.length).toBe(before);
  });

  it('clears the cache, after which the next load downloads again', async () => {
    const list = page.getByTestId('cache-list');
    await list.getByRole('button', { name: 'Remove downloaded models from this browser' }).click();
    await list.locator('summary').getByText('Downloaded models kept in this browser: none').waitFor();
    expect(await list.locator('tbody tr').count()).toBe(0);
    await loadFromDisk();
    const before = hits.length;
    await curated(SMOL).getByRole('button', { name: 'Download and load' }).click();
    await page.getByText(`Model: ${SMOL}`).waitFor({ timeout: 30_000 });
    expect(hits.slice(before).map((u) => u.split('/resolve/main/')[1])).toEqual(['config.json', 'tokenizer_config.json', 'tokenizer.json', 'model.safetensors']);
  });

  it('says in plain words that a gated model needs its licence accepted, and keeps the loaded model', async () => {
    await curated(GATED).getByRole('button', { name: 'Download and load' }).click();
    const alert = page.getByTestId('model-alert');
    await alert.waitFor({ timeout: 30_000 });
    const text = await alert.textContent();
    expect(text).toContain(`${GATED} could not be loaded`);
    // the studio's own words, not the command line's ("pass an access token")
    expect(text).toMatch(/gated or private/);
    expect(text).toContain("accept the licence on the model's Hub page, create a read token in your Hugging Face settings, paste it in the access token field above");
    expect(text).not.toContain('pass an access token');
    const advice = page.getByTestId('model-auth-advice');
    expect(await advice.getByRole('link', { name: "the model's Hub page" }).getAttribute('href')).toBe(`${HUB}/${GATED}`);
    expect(await advice.getByRole('link', { name: 'your Hugging Face settings' }).getAttribute('href')).toBe(`${HUB}/settings/tokens`);
    expect(text).toContain(`Still using ${SMOL}`);
    // a 4xx is an answer, not a failure: asked once, never retried
    expect(gatedHits).toEqual([`${HUB}/${GATED}/resolve/main/config.json`]);
    expect(await loadedName()).toBe(SMOL);
    expect(await page.getByTestId('model-arch').textContent()).toContain('3 layers');
  });

  it('says the network is unreachable when the Hub cannot be reached, and keeps the loaded model', async () => {
    await curated(OFFLINE).getByRole('button', { name: 'Download and load' }).click();
    const alert = page.getByTestId('model-alert').filter({ hasText: OFFLINE });
    await alert.waitFor({ timeout: 30_000 });
    const text = await alert.textContent();
    expect(text).toContain(`${OFFLINE} could not be loaded`);
    expect(text).toMatch(/you may be offline/);
    expect(text).toContain('check the connection and try again');
    // network failures are retried: the first attempt plus three retries
    expect(text).toContain('gave up after 4 attempts');
    expect(offlineHits).toEqual(Array(4).fill(`${HUB}/${OFFLINE}/resolve/main/config.json`));
    expect(text).toContain(`Still using ${SMOL}`);
    expect(await loadedName()).toBe(SMOL);
    expect(await page.getByTestId('model-arch').textContent()).toContain('3 layers');
    const list = page.getByTestId('cache-list');
    if ((await list.getAttribute('open')) === null) await list.locator('summary').click();
    await page.locator('#step-model').screenshot({ path: join(SHOTS, 'studio-hub.png') });
  });

  it('loads a gated model with an access token that goes to the Hub only and is stored nowhere', async () => {
    const missingBefore = missing.length;
    const fixture = serveFixture(GATED, [], missing);
    // routes registered later are tried first: this one replaces the plain 401 for the gated model
    await page.route(`${HUB}/${GATED}/**`, async (route) => {
      tokenHits.push(route.request().url());
      if (route.request().headers().authorization !== `Bearer ${TOKEN}`) {
        await route.fulfill({ status: 401, headers: { ...CORS, 'x-error-code': 'GatedRepo' }, body: 'Access to model is restricted.' });
        return;
      }
      await fixture(route);
    });
    const field = page.getByLabel('Hugging Face access token (only for gated models)');
    expect(await field.getAttribute('type')).toBe('password');
    expect(await page.locator('#hub-token-hint').textContent()).toContain('Kept only in memory for this tab: never stored, never logged, never put in a URL');
    await field.fill(TOKEN);
    await curated(GATED).getByRole('button', { name: 'Download and load' }).click();
    await page.getByText(`Model: ${GATED}`).waitFor({ timeout: 30_000 });
    expect(await loadedName()).toBe(GATED);
    expect(await page.getByTestId('model-arch').textContent()).toContain('3 layers');
    expect(await page.getByTestId('model-alert').count()).toBe(0);
    expect(missing.length).toBe(missingBefore);
    expect(tokenHits.map((u) => u.split('/resolve/main/')[1])).toEqual(['config.json', 'tokenizer_config.json', 'tokenizer.json', 'model.safetensors']);

    // the token travelled in the Authorization header of the Hub requests, and nowhere else
    const carrying = sent.filter((r) => JSON.stringify(r).includes(TOKEN));
    expect(carrying.map((r) => r.url)).toEqual(tokenHits);
    expect(carrying.every((r) => r.url.startsWith(`${HUB}/`) && !r.url.includes(TOKEN) && r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const stored = await page.evaluate(async () => {
      const dump = (s: Storage) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i) ?? '')}`).join('\n');
      const dbs = (await indexedDB.databases()).map((d) => d.name ?? '');
      const cached: string[] = [];
      for (const name of await caches.keys()) {
        cached.push(name, ...(await (await caches.open(name)).keys()).map((r) => r.url));
      }
      return { local: dump(localStorage), session: dump(sessionStorage), dbs, cached, url: location.href };
    });
    expect(JSON.stringify(stored)).not.toContain(TOKEN);
    expect(stored.cached.length).toBeGreaterThan(0);
  });

  it('asked no host but the studio itself and the routed Hub URLs, and threw nothing', () => {
    const origin = new URL(studio.url).origin;
    const routed = [...hits, ...gatedHits, ...offlineHits, ...tokenHits];
    const stray = requests.filter((u) => !u.startsWith(`${origin}/`) && !routed.includes(u));
    expect(stray).toEqual([]);
    expect(requests.filter((u) => u.startsWith(HUB)).length).toBe(routed.length);
    expect(studio.errors).toEqual([]);
  });
});
