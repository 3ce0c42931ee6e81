/**
 * The studio's GGUF and GPU-server exports in Chromium (one page session, stories260K with an
 * imported adapter): the GGUF adapter and the merged Q8_0 zip (GGUF + Modelfile) are byte for
 * byte what the CLI's exporter writes in Node for the same adapter, the page shows the
 * `ollama create` line, and the GPU-server zip holds train.py with the rows in the prompt format.
 * llama.cpp's judgement of these files is in tests/cli/export-gguf-llama-cpp.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { planAdapterLayout, slotView } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { adapterGgufFile, mergedGgufFolder } from '../../src/train/gguf-export.ts';
import { rng } from '../helpers/numeric.ts';
import { openStudio, SHOTS, type StudioPage } from './harness.ts';

const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
const FILES = { 'stories260K.gguf': new Uint8Array(readFileSync(STORIES)) };
const MODEL = loadModelFiles(FILES, 'stories260K.gguf');
const CSV = ['text,label', ...Array.from({ length: 10 }, (_, i) => `Lily found a red ball number ${i},${i % 2 ? 'yes' : 'no'}`)].join('\n');

function randomPeftFiles(): Record<string, Uint8Array> {
  const cfg = { ...defaultAdapterConfig('llama'), rank: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'down_proj'] };
  const layout = planAdapterLayout(adapterModules(MODEL.config, cfg), cfg.rank);
  const params = new Float32Array(layout.totalFloats);
  const next = rng(7);
  for (const e of layout.entries) for (const slot of [e.a, e.b]) slotView(params, slot).forEach((_, i, v) => (v[i] = (next() * 2 - 1) * 0.1));
  return exportPeftAdapter(layout, params, cfg, 'llama');
}

describe('studio GGUF exports in Chromium', () => {
  let studio: StudioPage;
  let page: Page;
  const peft = randomPeftFiles();
  const adapter = importPeftAdapter(peft['adapter_config.json'], peft['adapter_model.safetensors'], MODEL.config);

  beforeAll(async () => {
    studio = await openStudio();
    page = studio.page;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
    await page.locator('#data-file').setInputFiles({ name: 'balls.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByText('Loaded balls.csv').waitFor();
    await page.locator('#adapter-import').setInputFiles(Object.entries(peft).map(([n, bytes]) => ({ name: n, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) })));
    await page.getByText(/imported\.$/).waitFor({ timeout: 30_000 });
  });

  afterAll(async () => {
    await studio?.close();
  });

  const download = async (button: string) => {
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: button }).click()]);
    return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync((await d.path())!)) };
  };

  it('the GGUF adapter equals the CLI exporter\'s file', async () => {
    const { name, bytes } = await download('Download the GGUF adapter');
    const expected = adapterGgufFile(MODEL, adapter, 'F32', 'stories260K.gguf');
    expect(name).toBe(expected.fileName);
    expect(Buffer.from(bytes).equals(Buffer.from(expected.bytes))).toBe(true);
  });

  it('the merged Q8_0 zip (GGUF + Modelfile) equals the CLI exporter\'s files, and the ollama line is shown', async () => {
    const { name, bytes } = await download('Download the merged GGUF + Modelfile (.zip)');
    const files = unzipFiles(bytes);
    const expected = mergedGgufFolder(MODEL, FILES, adapter, 'Q8_0', { modelName: 'stories260K.gguf', useChatTemplate: false });
    expect(name).toBe('stories260K-merged-Q8_0.zip');
    expect(Object.keys(files).sort()).toEqual(Object.keys(expected.files).sort());
    for (const [file, data] of Object.entries(expected.files)) expect(Buffer.from(files[file]).equals(Buffer.from(data)), file).toBe(true);
    expect(new TextDecoder().decode(files.Modelfile)).toContain('TEMPLATE """{{ .Prompt }}\n### Answer:\n"""');
    await page.getByTestId('ollama-create').waitFor();
    expect(await page.getByTestId('ollama-create-line').textContent()).toBe(expected.createLine);
    expect(await page.getByTestId('modelfile').textContent()).toBe(new TextDecoder().decode(expected.files.Modelfile));
    await page.getByTestId('gguf-export').screenshot({ path: join(SHOTS, 'studio-gguf.png') });
  });

  it('the GPU-server zip holds train.py, the configs and the rows in the prompt format', async () => {
    const { name, bytes } = await download('Download the GPU server folder (.zip)');
    const files = unzipFiles(bytes);
    expect(name).toBe('stories260K-gpu-server.zip');
    const dir = 'stories260K-gpu-server/';
    for (const f of ['train.py', 'requirements.txt', 'accelerate_config.yaml', 'axolotl.yaml', 'data/train.jsonl', 'adapter/adapter_config.json', 'base-model/model.safetensors']) {
      expect(Object.keys(files), f).toContain(dir + f);
    }
    const rows = [new TextDecoder().decode(files[`${dir}data/train.jsonl`]), new TextDecoder().decode(files[`${dir}data/validation.jsonl`] ?? new Uint8Array())].join('').trim().split('\n');
    expect(rows).toHaveLength(10);
    for (const line of rows) expect(JSON.parse(line)).toMatchObject({ prompt: expect.stringMatching(/^Lily found a red ball number \d\n### Answer:\n$/), completion: expect.stringMatching(/^(yes|no)<\/s>$/) });
    expect(new TextDecoder().decode(files[`${dir}train.py`])).toContain('r=4,');
    expect(studio.errors).toEqual([]);
  });
});
