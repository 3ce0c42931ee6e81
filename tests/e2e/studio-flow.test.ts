import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip.ts';
import { planAdapterLayout } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { buildStudio, launchChromium, OUTPUT_DIR, serveStudio } from './harness.ts';

const SHOTS = join(OUTPUT_DIR, 'screenshots');
const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
/** Appears only inside the uploaded rows: it must never show up in a request. */
const CANARY = 'zebracanary7731';

// 40 rows: short story openings → yes (a cat is in it) / no. 10% (4 rows) are held out.
const ANIMALS = ['cat', 'dog', 'bird', 'fish', 'frog'];
const CSV = ['text,label', ...Array.from({ length: 40 }, (_, i) => `${i === 7 ? CANARY + ' ' : ''}Tim saw a ${ANIMALS[i % 5]} in the park ${i},${i % 5 === 0 ? 'yes' : 'no'}`)].join('\n');

describe('studio flow in Chromium: model → data → adapter → train → compare → export', () => {
  let browser: Browser;
  let server: Server;
  let page: Page;
  const errors: string[] = [];
  const requests: { url: string; body: string }[] = [];
  let afterModel = 0;

  beforeAll(async () => {
    await buildStudio();
    let url: string;
    ({ server, url } = await serveStudio());
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push({ url: r.url(), body: r.postData() ?? '' }));
    await page.goto(url);
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads the model from disk and the CSV, and sets a small adapter', async () => {
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
    afterModel = requests.length;
    await page.locator('#data-file').setInputFiles({ name: 'stories.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByText('Loaded stories.csv').waitFor();
    expect(await page.getByTestId('split-counts').textContent()).toBe('36 training rows, 4 validation rows');
    await page.getByRole('button', { name: 'Advanced settings' }).click();
    await page.getByLabel('Adapter size (rank)').selectOption('4');
    await page.getByLabel('Rows per step (batch size)').fill('4');
    await page.getByLabel('Longest example in tokens (sequence length)').selectOption('64');
    await page.locator('#step-adapter').screenshot({ path: join(SHOTS, 'flow-adapter.png') });
  });

  it('trains a few steps; the loss chart and step counter grow', async () => {
    await page.getByLabel(/Stop after this many steps/).fill('4');
    await page.getByLabel(/Save the run every N steps/).fill('2');
    await page.getByRole('button', { name: 'Start training' }).click();
    // SwiftShader: ~20 s compiling pipelines, then a few seconds per step (validation every step of a short run)
    await page.getByTestId('train-done').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('train-step').textContent()).toBe('4 of 4');
    expect(await page.getByTestId('train-info').textContent()).toContain('Training on 36 rows, checking on 4 held-out rows (labels: no, yes)');
    // one point per step, redrawn a few times a second
    await page.waitForFunction(() => document.querySelector('[data-testid="loss-chart"]')?.getAttribute('data-points') === '4');
    expect(await page.getByTestId('lr-chart').getAttribute('data-points')).toBe('4');
    expect(Number(await page.getByTestId('train-loss').textContent())).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="loss-chart"] .recharts-line-curve').count()).toBeGreaterThanOrEqual(1);
    await page.locator('#step-train').screenshot({ path: join(SHOTS, 'flow-train.png') });
    // The first run timed the matmul kernels on this GPU and kept the fastest choice in the browser.
    const kept = await page.evaluate(async () => {
      const folder = await (await navigator.storage.getDirectory()).getDirectoryHandle('tsugiki-tuning');
      return JSON.parse(await (await (await folder.getFileHandle('matmul.json')).getFile()).text());
    });
    const tunings = Object.values(kept) as { long: string; maxTx: number; vec4: boolean }[];
    expect(tunings).toHaveLength(1);
    expect(['tiled', 'direct']).toContain(tunings[0].long);
    expect([4, 8, 16]).toContain(tunings[0].maxTx);
    expect(typeof tunings[0].vec4).toBe('boolean');
  });

  it('compares base and tuned outputs on the held-out rows and a free prompt', async () => {
    await page.getByLabel('Longest answer (tokens)').fill('3'); // labels are one or two tokens
    await page.getByRole('button', { name: 'Compare on the 4 held-out rows' }).click();
    await page.getByTestId('compare-table').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('base-output').count()).toBe(4);
    expect(await page.getByTestId('tuned-output').count()).toBe(4);
    expect(await page.getByTestId('compare-accuracy').textContent()).toMatch(/tuned model right on \d of 4 .*base model \d of 4/);
    await page.getByLabel('Your own prompt').fill('Once upon a time');
    await page.getByRole('button', { name: 'Answer with both models' }).click();
    await page.getByTestId('free-answers').waitFor({ timeout: 60_000 });
    expect((await page.getByTestId('free-base').textContent())!.length).toBeGreaterThan(0);
    await page.locator('#step-compare').screenshot({ path: join(SHOTS, 'flow-compare.png') });
  });

  it('exports the adapter zip, which PEFT import reads back for the same model', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the adapter (PEFT .zip)' }).click()]);
    expect(download.suggestedFilename()).toBe('stories260K-lora-r4.zip');
    const files = unzipFiles(new Uint8Array(readFileSync((await download.path())!)));
    expect(Object.keys(files).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(new TextDecoder().decode(files['README.md'])).toContain('stories260K.gguf');
    const model = loadModelFiles({ 'stories260K.gguf': new Uint8Array(readFileSync(STORIES)) }, 'stories260K.gguf');
    const adapter = importPeftAdapter(files['adapter_config.json'], files['adapter_model.safetensors'], model.config);
    expect(adapter.cfg.rank).toBe(4);
    // the Balanced preset adapts the attention modules of every layer
    const layout = planAdapterLayout(adapterModules(model.config, adapter.cfg), 4);
    expect(adapter.params.length).toBe(layout.totalFloats);
    // PEFT starts B at 0; after training some B entry has moved
    const bMoved = layout.entries.some((e) => adapter.params.subarray(e.b.offset, e.b.offset + e.b.shape[0] * e.b.shape[1]).some((v) => v !== 0));
    expect(bMoved).toBe(true);
    const [mergedDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the merged model (.zip)' }).click()]);
    const merged = unzipFiles(new Uint8Array(readFileSync((await mergedDownload.path())!)));
    expect(Object.keys(merged).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    // the merged GGUF model is a Hugging Face folder that loads back with the same shape
    expect(loadModelFiles(merged, 'merged').config).toMatchObject({ arch: 'llama', layers: 5, hidden: 64, vocabSize: 512 });
    await page.locator('#adapter-import').setInputFiles({ name: 'back.zip', mimeType: 'application/zip', buffer: readFileSync((await download.path())!) });
    await page.getByText(/imported\.$/).waitFor({ timeout: 30_000 });
    await page.locator('#step-export').screenshot({ path: join(SHOTS, 'flow-export.png') });
  });

  it('sends nothing of the data anywhere, and makes no request at all once the model is loaded', () => {
    const leaks = requests.filter((r) => r.url.includes(CANARY) || r.body.includes(CANARY));
    expect(leaks).toEqual([]);
    expect(requests.slice(afterModel).map((r) => r.url)).toEqual([]);
    expect(requests.every((r) => r.url.startsWith('http://127.0.0.1:'))).toBe(true);
    expect(errors).toEqual([]);
  });
});
