import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip.ts';
import { openStudio, SHOTS, type StudioPage } from './harness.ts';

const STORIES = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
// 40 rows, 8 held out (20%): does the sentence name a cat?
const ANIMALS = ['cat', 'dog', 'bird', 'fish', 'frog'];
const CSV = ['text,label', ...Array.from({ length: 40 }, (_, i) => `Tim saw a ${ANIMALS[i % 5]} in the park ${i},${i % 5 === 0 ? 'yes' : 'no'}`)].join('\n');
const LABELS = ['no', 'yes']; // most frequent first, the studio's label order

const stepOf = async (page: Page) => Number((await page.getByTestId('train-step').textContent())!.split(' of ')[0]);

async function train(page: Page, steps: number, pause?: (page: Page) => Promise<void>) {
  await page.getByLabel(/Stop after this many steps/).fill(String(steps));
  await page.getByRole('button', { name: 'Start training' }).click();
  if (pause) await pause(page);
  await page.getByTestId('train-done').waitFor({ timeout: 120_000 });
}

/** The tuned model's confusion matrix as the page shows it. */
async function shownMatrix(page: Page, model: 'base' | 'tuned'): Promise<number[][]> {
  const cells = page.getByTestId(`confusion-${model}`).getByTestId('confusion-cell');
  const out = LABELS.map(() => LABELS.map(() => -1));
  for (let i = 0; i < (await cells.count()); i++) {
    const c = cells.nth(i);
    out[LABELS.indexOf((await c.getAttribute('data-truth'))!)][LABELS.indexOf((await c.getAttribute('data-predicted'))!)] = Number(await c.textContent());
  }
  return out;
}

describe('studio evaluation in Chromium: one rule in Train and Compare, a paused run, run history', () => {
  let studio: StudioPage;
  let page: Page;

  beforeAll(async () => {
    studio = await openStudio();
    page = studio.page;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
  });

  afterAll(() => studio?.close());

  it('compares and exports a paused run; Train and Compare report the same accuracy; the confusion matrix is the rows counted by hand; two runs stay in the history', async () => {
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
    await page.locator('#data-file').setInputFiles({ name: 'cats.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByText('Loaded cats.csv').waitFor();
    await page.locator('#val-split').fill('20');
    expect(await page.getByTestId('split-counts').textContent()).toBe('32 training rows, 8 validation rows');
    await page.getByRole('button', { name: 'Advanced settings' }).click();
    await page.getByLabel('Adapter size (rank)').selectOption('4');
    await page.getByLabel('Rows per step (batch size)').fill('4');
    await page.getByLabel('Longest example in tokens (sequence length)').selectOption('64');
    await page.getByLabel('Longest answer (tokens)').fill('2');

    // run 1: pause mid-run, compare and export the adapter as it stands, then resume
    await train(page, 4, async (p) => {
      await p.waitForFunction(() => Number(document.querySelector('[data-testid="train-step"]')?.textContent?.split(' of ')[0]) >= 1, undefined, { timeout: 90_000 });
      await p.getByRole('button', { name: 'Pause' }).click();
      await p.getByTestId('train-paused').waitFor({ timeout: 30_000 });
      const at = await stepOf(p);
      expect(at).toBeLessThan(4);
      expect(await p.getByTestId('compare-paused').textContent()).toContain(`paused at step ${at}`);
      await p.getByRole('button', { name: 'Compare on the 8 held-out rows' }).click();
      await p.getByTestId('compare-table').waitFor({ timeout: 60_000 });
      expect(await p.getByTestId('compare-row').count()).toBe(8);
      const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Download the adapter (PEFT .zip)' }).click()]);
      const files = unzipFiles(new Uint8Array(readFileSync((await download.path())!)));
      expect(Object.keys(files).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
      expect(await stepOf(p)).toBe(at); // still paused
      await p.getByRole('button', { name: 'Resume' }).click();
    });
    const trainText = (await page.getByTestId('train-accuracy').textContent())!;
    const [right, of] = /(\d+) of (\d+)/.exec(trainText)!.slice(1).map(Number);
    expect(of).toBe(8);

    await page.getByRole('button', { name: 'Compare on the 8 held-out rows' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="compare-paused"]') === null);
    await page.getByTestId('compare-accuracy').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => !document.body.textContent?.includes('Both models are answering'));
    // the same rows and the same rule: the same count
    expect(await page.getByTestId('compare-accuracy').textContent()).toContain(`tuned model right on ${right} of 8`);

    // the confusion matrix, counted by hand from the rows' expected and predicted labels
    const rows = page.getByTestId('compare-row');
    const byHand = LABELS.map(() => LABELS.map(() => 0));
    for (let i = 0; i < 8; i++) {
      const r = rows.nth(i);
      byHand[LABELS.indexOf((await r.getAttribute('data-expected'))!)][LABELS.indexOf((await r.getAttribute('data-tuned'))!)]++;
    }
    expect(await shownMatrix(page, 'tuned')).toEqual(byHand);
    expect(byHand[0][0] + byHand[1][1]).toBe(right);
    // a cell opens its rows
    const t = byHand[0][0] > 0 ? 0 : 1;
    await page.locator(`[data-testid="confusion-tuned"] [data-truth="${LABELS[t]}"][data-predicted="${LABELS[t]}"]`).click();
    expect(await rows.count()).toBe(byHand[t][t]);
    await page.locator('#step-compare').screenshot({ path: join(SHOTS, 'evaluate-compare.png') });

    // run 2, then both runs are in the history with their curves, overlaid, and survive a reload
    await train(page, 1);
    const history = page.getByTestId('history-run');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-run"]').length === 2, undefined, { timeout: 30_000 });
    expect(await history.nth(0).getAttribute('data-points')).toBe('1');
    expect(await history.nth(1).getAttribute('data-points')).toBe('4');
    expect(await page.getByTestId('history-overlay').getAttribute('data-runs')).toBe('2');
    expect(await history.nth(1).getByTestId('history-result').textContent()).toContain(`accuracy ${Math.round((100 * right) / 8)}%`);
    await page.locator('#step-train').screenshot({ path: join(SHOTS, 'evaluate-history.png') });
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-run"]').length === 2, undefined, { timeout: 30_000 });

    // after the reload: open the first run's adapter from the history and compare it on its held-out rows
    await page.locator('#model-file').setInputFiles(STORIES);
    await page.getByTestId('model-facts').waitFor({ timeout: 60_000 });
    await page.locator('#data-file').setInputFiles({ name: 'cats.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) }); // the split stays at 10%
    await page.getByText('Loaded cats.csv').waitFor();
    await history.nth(1).getByRole('button', { name: 'Open to compare or export' }).click();
    await history.nth(1).getByRole('button', { name: 'Opened' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Compare on the 8 held-out rows' }).click();
    await page.getByTestId('compare-accuracy').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('compare-accuracy').textContent()).toContain(`tuned model right on ${right} of 8`);
    expect(studio.errors).toEqual([]);
  });
});
