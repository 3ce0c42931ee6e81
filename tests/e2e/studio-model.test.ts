import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, SHOTS, type StudioPage } from './harness.ts';

const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
const Q4_0 = fileURLToPath(new URL('../../../shared/data/models/quantized/stories260K-Q4_0.gguf', import.meta.url));
const LEGACY = fileURLToPath(new URL('../../../shared/data/models/stories260K-gguf-v1-legacy.gguf', import.meta.url));

describe('studio model step in Chromium', () => {
  let studio: StudioPage;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await openStudio();
    ({ page, errors } = studio);
  });

  afterAll(() => studio?.close());

  it('lists the eight curated models with download size and a memory verdict from the plan', async () => {
    const rows = page.getByTestId('curated-model');
    expect(await rows.count()).toBe(8);
    const first = await rows.nth(0).textContent();
    expect(first).toContain('HuggingFaceTB/SmolLM2-135M-Instruct');
    // 134,515,008 parameters × 2 bytes (bf16) + tokenizer files
    expect(first).toMatch(/135M parameters; download ≈ 25\d\.\d MiB/);
    expect(await rows.nth(2).textContent()).toContain('Qwen/Qwen2.5-0.5B-Instruct');
    const llama = await rows.nth(3).textContent();
    expect(llama).toContain('meta-llama/Llama-3.2-1B-Instruct');
    expect(llama).toContain('4-bit base');
    expect(llama).toContain('token');
    for (let i = 0; i < 8; i++) expect(await page.getByTestId('model-verdict').nth(i).textContent()).toMatch(/fits this GPU|too big for this GPU, try/);
    expect(await rows.nth(6).textContent()).toMatch(/google\/gemma-3-270m-it.*Gated.*268M parameters/);
    expect(await rows.nth(7).textContent()).toMatch(/Qwen\/Qwen3-0\.6B.*596M parameters/);
  });

  it('loads stories260K.gguf from disk in the worker and shows its shape', async () => {
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('model-loaded-name').textContent()).toBe('stories260K.gguf');
    // README: 292,800 parameters; Llama, 5 layers, dim 64, 8 heads / 4 KV heads, 512 tokens
    expect(await page.getByTestId('model-params').textContent()).toBe('292,800');
    expect(await page.getByTestId('model-arch').textContent()).toBe('llama (llama), 5 layers, hidden size 64, 8 heads (4 key/value), vocabulary 512');
    expect(await page.getByTestId('model-targets').textContent()).toBe('q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj');
    expect(await page.getByTestId('model-name').textContent()).toBe('Model: stories260K.gguf');
  });

  it('refuses a legacy GGUF v1 file in plain words and keeps the loaded model', async () => {
    await page.locator('#model-file').setInputFiles(LEGACY);
    const alert = page.getByTestId('model-alert');
    await alert.waitFor({ timeout: 60_000 });
    const text = await alert.textContent();
    expect(text).toContain('stories260K-gguf-v1-legacy.gguf could not be loaded');
    expect(text).toMatch(/version 1/i);
    expect(text).toContain('Still using stories260K.gguf');
    expect(await page.getByTestId('model-loaded-name').textContent()).toBe('stories260K.gguf');
  });

  it('turns the loaded F32 model into a 4-bit base and shows the GPU memory it saves', async () => {
    expect(await page.getByTestId('model-weights').textContent()).toMatch(/^f32, 1\.1\d MiB on the GPU/);
    await page.getByTestId('base-quant').click();
    const done = page.getByTestId('base-quant-done');
    await done.waitFor({ timeout: 60_000 });
    // stories260K's rows are 64 wide (whole 32-blocks): Q5_0 or Q8_0 by measured error; the 172-wide
    // down_proj rows and the norms stay F32.
    expect(await done.textContent()).toMatch(/^4-bit base: the frozen weights take \d+(\.\d+)? KiB on the GPU instead of 1\.1\d MiB \(saves \d+(\.\d+)? KiB; .*Q8_0.*F32/);
    expect(await page.getByTestId('model-weights').textContent()).toMatch(/^quantized: /);
    expect(await page.getByTestId('model-loaded-name').textContent()).toBe('stories260K.gguf');
  });

  it('loads a quantized GGUF (Q4_0 with Q8_0 and F16 tensors) and keeps it quantized on the GPU', async () => {
    await page.locator('#model-file').setInputFiles(Q4_0);
    await page.getByText('Model: stories260K-Q4_0.gguf').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('model-weights').textContent()).toMatch(/^quantized: Q4_0, Q8_0, 256\.5 KiB on the GPU/);
    expect(await page.getByTestId('base-quant').count()).toBe(0);
  });

  it('accepts a model file dropped on the drop zone; the data step then counts tokens', async () => {
    const bytes = [...readFileSync(STORIES)];
    await page.getByTestId('model-drop-zone').evaluate((zone, data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'dropped.gguf'));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.getByText('Model: dropped.gguf').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('model-alert').count()).toBe(0);
    await page.locator('#data-file').setInputFiles({ name: 'rows.csv', mimeType: 'text/csv', buffer: Buffer.from('text,label\nOnce upon a time,yes\nThe cat sat,no\n') });
    await page.getByText('Loaded rows.csv').waitFor();
    // with a tokenizer the data check reports token lengths against the sequence length
    expect(await page.getByTestId('data-check').textContent()).toMatch(/token/i);
    await page.locator('#step-model').screenshot({ path: join(SHOTS, 'studio-model.png') });
    expect(errors).toEqual([]);
  });
});
