import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, SHOTS, type StudioPage } from './harness.ts';

const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
const CSV = ['text,label', ...Array.from({ length: 40 }, (_, i) => `Lily found a ${i % 2 ? 'red' : 'blue'} ball ${i},${i % 2 ? 'red' : 'blue'}`)].join('\n');

const stepOf = async (page: Page) => Number((await page.getByTestId('train-step').textContent())!.split(' of ')[0]);

async function loadModel(page: Page) {
  await page.locator('#model-file').setInputFiles(STORIES);
  await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
}

describe('studio: a reload during training resumes from the saved checkpoint', () => {
  let studio: StudioPage;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await openStudio();
    ({ page, errors } = studio);
  });

  afterAll(() => studio?.close());

  it('offers "Resume the run from step N" after a reload and continues from N', async () => {
    await loadModel(page);
    await page.locator('#data-file').setInputFiles({ name: 'balls.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByText('Loaded balls.csv').waitFor();
    await page.getByRole('button', { name: 'Advanced settings' }).click();
    await page.getByLabel('Adapter size (rank)').selectOption('4');
    await page.getByLabel('Rows per step (batch size)').fill('4');
    await page.getByLabel('Longest example in tokens (sequence length)').selectOption('64');
    await page.getByLabel(/Stop after this many steps/).fill('40');
    await page.getByLabel(/Save the run every N steps/).fill('1');
    await page.getByRole('button', { name: 'Start training' }).click();
    // SwiftShader compiles pipelines for ~20 s before the first step
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-step"]')?.textContent?.split(' of ')[0]) >= 2, undefined, { timeout: 80_000 });
    // checkpoints are written after each step; wait for the run record to name one ≥ 1
    await page.waitForTimeout(500);
    await page.reload();

    const banner = page.getByTestId('resume-banner');
    await banner.waitFor({ timeout: 30_000 });
    const text = (await banner.textContent())!;
    const saved = Number(/saved in this browser at step (\d+) of 40/.exec(text)?.[1]);
    expect(saved).toBeGreaterThanOrEqual(1);
    expect(text).toContain('Load stories260K.gguf again in step 1');
    const resume = page.getByRole('button', { name: `Resume the run from step ${saved}` });
    expect(await resume.isDisabled()).toBe(true); // the model must be loaded again first
    await page.locator('#step-train').screenshot({ path: join(SHOTS, 'resume-offer.png') });

    await loadModel(page);
    await resume.click();
    // the data and split come back with the run
    await page.getByText('Loaded balls.csv').waitFor();
    await page.waitForFunction(() => / of 40$/.test(document.querySelector('[data-testid="train-step"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    // right after resuming the counter shows N (the checkpoint), then N + 1, …: never 0
    const first = await stepOf(page);
    expect(first).toBeGreaterThanOrEqual(saved);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="train-step"]')?.textContent?.split(' of ')[0]) > n, saved, { timeout: 60_000 });
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText(/Stopped at step \d+/).waitFor({ timeout: 60_000 });
    expect(await stepOf(page)).toBeGreaterThan(saved);
    await page.locator('#step-train').screenshot({ path: join(SHOTS, 'resume-continued.png') });
    expect(errors).toEqual([]);
  });
});
