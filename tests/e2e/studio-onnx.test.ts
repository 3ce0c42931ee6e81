/**
 * The studio's ONNX export in Chromium: the zip holds the folder transformers.js loads, byte for
 * byte what the exporter writes in Node, and the page runs it in onnxruntime-web and reports how
 * far its logits are from the engine's — with no request leaving 127.0.0.1.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitTrainVal } from '../../src/data/split.ts';
import { unzipFiles } from '../../src/io/zip.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { planAdapterLayout, slotView } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { compareLogits, promptFeeds, VERIFY_TOLERANCE } from '../../src/onnx/verify.ts';
import { rng } from '../helpers/numeric.ts';
import { buildStudio, launchChromium, OUTPUT_DIR, serveStudio } from './harness.ts';

const SHOTS = join(OUTPUT_DIR, 'screenshots');
const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
const FILES = { 'stories260K.gguf': new Uint8Array(readFileSync(STORIES)) };
const MODEL = loadModelFiles(FILES, 'stories260K.gguf');

// 10 rows; the studio holds out 10% (one row) with split seed 42, its defaults
const CSV = ['text,label', ...Array.from({ length: 10 }, (_, i) => `Lily found a red ball number ${i},${i % 2 ? 'yes' : 'no'}`)].join('\n');
const HELD_OUT = `Lily found a red ball number ${splitTrainVal(10, 0.1, 42).val[0]}`;

/** A PEFT adapter of rank 4 on q_proj, v_proj and down_proj, A and B uniform in ±0.1 (it moves the logits by ≈ 0.24 of the largest). */
function randomPeftFiles(): Record<string, Uint8Array> {
  const cfg = { ...defaultAdapterConfig('llama'), rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] };
  const layout = planAdapterLayout(adapterModules(MODEL.config, cfg), cfg.rank);
  const params = new Float32Array(layout.totalFloats);
  const next = rng(31);
  for (const e of layout.entries) {
    for (const slot of [e.a, e.b]) {
      const v = slotView(params, slot);
      for (let i = 0; i < v.length; i++) v[i] = (next() * 2 - 1) * 0.1;
    }
  }
  return exportPeftAdapter(layout, params, cfg, 'llama');
}

/** The number after "largest logit difference" in the verified line. */
function reportedDifference(text: string): number {
  const m = /^Verified in ONNX Runtime \((WebGPU|WASM)\): largest logit difference (\S+)$/.exec(text.trim());
  if (!m) throw new Error(`unexpected verification line: ${text}`);
  return Number(m[2]);
}

function reportedRelative(detail: string): number {
  const m = /relative (\S+) of the largest logit/.exec(detail);
  if (!m) throw new Error(`no relative difference in: ${detail}`);
  return Number(m[1]);
}

describe('the logit comparison behind the check', () => {
  it('measures against the largest engine logit and never passes a NaN', () => {
    const engine = [1, -4, 2, 0.5, 3, -1]; // T = 2, V = 3; largest |logit| 4
    const close = compareLogits([1, -4, 2, 0.5, 3.0002, -1], engine, 3, 1e-4);
    expect(close.maxAbs).toBeCloseTo(2e-4, 9);
    expect(close.maxRel).toBeCloseTo(5e-5, 9); // 2e-4 / 4
    expect(close.worstPosition).toBe(1);
    expect(close.ok).toBe(true);
    expect(compareLogits([1, -4, 2, 0.5, 3.001, -1], engine, 3, 1e-4).ok).toBe(false); // 2.5e-4 relative
    const nan = compareLogits([1, -4, NaN, 0.5, 3, -1], engine, 3, 1e-4);
    expect(nan.ok).toBe(false);
    expect(nan.maxAbs).toBe(Infinity);
    expect(() => compareLogits([1, 2], engine, 3, 1e-4)).toThrow(/same positions/);
  });

  it('feeds a prompt as transformers.js feeds the first step', () => {
    const feeds = promptFeeds(MODEL.config, [1, 403, 407]);
    expect(feeds.map((f) => f.name).slice(0, 4)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key']);
    expect(feeds.length).toBe(3 + 2 * 5); // 5 layers
    expect(Array.from(feeds[2].data as BigInt64Array, Number)).toEqual([0, 1, 2]);
    expect(feeds[3].dims).toEqual([1, 4, 0, 8]); // KV = 4 heads of D = 8
  });
});

describe('studio ONNX export in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    await buildStudio();
    let url: string;
    ({ server, url } = await serveStudio());
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url);
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  const exportAndCheck = async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByRole('button', { name: 'Export for transformers.js / ONNX Runtime' }).click()]);
    await page.getByTestId('onnx-verified').or(page.getByTestId('onnx-mismatch')).or(page.getByTestId('onnx-problem')).first().waitFor({ timeout: 45_000 });
    const files = unzipFiles(new Uint8Array(readFileSync((await download.path())!)));
    // a backend may be less precise than the engine (an alert of its own), but the file itself must match
    expect(await page.getByTestId('onnx-problem').count()).toBe(0);
    expect(await page.getByTestId('onnx-mismatch').count()).toBe(0);
    const verified = (await page.getByTestId('onnx-verified').textContent())!;
    const imprecise = await page.getByTestId('onnx-backend-mismatch').allTextContents();
    // only WebGPU can be the imprecise one, and then WASM is what verified the file
    for (const text of imprecise) expect(text).toContain("ONNX Runtime's WebGPU backend on this device differs from the engine");
    if (imprecise.length > 0) expect(verified).toContain('(WASM)');
    return { name: download.suggestedFilename(), files, verified, detail: (await page.getByTestId('onnx-verified-detail').textContent())! };
  };

  it('exports the base model (f32) with no data, and ONNX Runtime agrees with the engine on the fixed prompt', async () => {
    const { name, files, verified, detail } = await exportAndCheck();
    expect(name).toBe('stories260K-onnx.zip');
    expect(Object.keys(files).sort()).toEqual(['config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    // the worker wrote exactly what the exporter writes in Node
    expect(Buffer.from(files['onnx/model.onnx']).equals(Buffer.from(exportOnnx(MODEL, null, { files: FILES })['onnx/model.onnx']))).toBe(true);
    const diff = reportedDifference(verified);
    // two float32 computations in different orders: not identical, far inside 1e-4 of the largest logit (measured ≈ 1e-6)
    expect(diff).toBeGreaterThan(0);
    expect(reportedRelative(detail)).toBeLessThan(VERIFY_TOLERANCE.f32);
    const T = MODEL.tokenizer.encode('Once upon a time', { addBos: MODEL.tokenizer.addsBos }).length;
    expect(detail).toContain(`all ${T} positions of the prompt "Once upon a time" (${T} tokens), base model`);
  });

  it('exports f16 with an imported adapter merged, checked on the first held-out row', async () => {
    await page.locator('#data-file').setInputFiles({ name: 'balls.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByText('Loaded balls.csv').waitFor();
    const peft = randomPeftFiles();
    await page.locator('#adapter-import').setInputFiles(Object.entries(peft).map(([n, bytes]) => ({ name: n, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) })));
    await page.getByText(/imported\.$/).waitFor({ timeout: 30_000 });
    await page.getByRole('radio', { name: /f16/ }).check();
    const { name, files, detail } = await exportAndCheck();
    expect(name).toBe('stories260K-onnx-fp16.zip');
    expect(Object.keys(files)).toContain('onnx/model_fp16.onnx');
    const adapter = importPeftAdapter(peft['adapter_config.json'], peft['adapter_model.safetensors'], MODEL.config);
    const expected = exportOnnx(MODEL, adapter, { dtype: 'f16', files: FILES })['onnx/model_fp16.onnx'];
    expect(Buffer.from(files['onnx/model_fp16.onnx']).equals(Buffer.from(expected))).toBe(true);
    // f16 weights against the engine's f32 ones: measured 1.6e-3 on this prompt (Node, WASM); tolerance 5e-3
    expect(reportedRelative(detail)).toBeLessThan(VERIFY_TOLERANCE.f16);
    expect(reportedRelative(detail)).toBeGreaterThan(1e-6); // the rounding to f16 shows: this is not the f32 file
    expect(detail).toContain(`of the prompt "${HELD_OUT}"`);
    expect(detail).toContain('adapter merged');
    await page.locator('#step-export').screenshot({ path: join(SHOTS, 'studio-onnx.png') });
  });

  it('makes no request outside 127.0.0.1 (ONNX Runtime included) and logs no page error', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('http://127.0.0.1:') && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    // ONNX Runtime's WASM binary came from the studio's own assets
    expect(requests.some((u) => /\/assets\/ort-wasm-simd-threaded\.jsep-[\w-]+\.wasm$/.test(u))).toBe(true);
    expect(errors).toEqual([]);
  });
});
