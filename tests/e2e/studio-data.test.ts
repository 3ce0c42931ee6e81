import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, SHOTS, type StudioPage } from './harness.ts';

// 9 data rows (4 labels, each on ≥ 2 rows): one exact duplicate (line 5 repeats line 2), one empty row (line 7).
const TICKETS = [
  'id,message,label',
  '1,My card was charged twice,billing',
  '2,Where is my parcel?,shipping',
  '3,The app crashes on start,technical',
  '1,My card was charged twice,billing',
  '5,I cannot log in,account',
  ',,',
  '7,"Refund me, please",billing',
  '8,Parcel arrived broken,shipping',
  '9,Reset my password,account',
  '10,The screen stays black,technical',
].join('\n');

// Row 3 has no label: parseDataset refuses the file.
const BROKEN = 'message,label\nHello,billing\nNo label here,\n';

const upload = (page: Page, name: string, text: string) =>
  page.locator('#data-file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });

describe('studio data and adapter steps in Chromium', () => {
  let studio: StudioPage;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await openStudio();
    ({ page, errors } = studio);
  });

  afterAll(() => studio?.close());

  it('shows the six steps in order', async () => {
    const headings = await page.locator('main h2').allTextContents();
    expect(headings).toEqual(['1Step 1: Model', '2Step 2: Data', '3Step 3: Adapter', '4Step 4: Train', '5Step 5: Compare', '6Step 6: Export']);
  });

  it('loads the demo dataset with its label balance and split', async () => {
    await page.getByRole('button', { name: 'Use the demo dataset' }).click();
    await page.getByTestId('dataset-name').waitFor();
    expect(await page.getByTestId('dataset-name').textContent()).toBe('support-tickets.csv');
    expect(await page.getByTestId('row-count').textContent()).toBe('300 (CSV)');
    const balance = await page.getByTestId('label-balance').locator('tbody tr').allTextContents();
    expect(balance).toEqual(['account7826.0%', 'technical7826.0%', 'billing7224.0%', 'shipping7224.0%']);
    // 10% of 300 held out
    expect(await page.getByTestId('split-counts').textContent()).toBe('270 training rows, 30 validation rows');
  });

  it('moves the split with the keyboard and the counts follow', async () => {
    const slider = page.getByLabel(/validation split/);
    await slider.focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    expect(await slider.inputValue()).toBe('15');
    expect(await page.getByTestId('split-counts').textContent()).toBe('255 training rows, 45 validation rows');
    await page.getByTestId('dataset').screenshot({ path: join(SHOTS, 'studio-data-demo.png') });
  });

  it('uploads a CSV: preview with input/output marked, label chart, duplicates and empty rows', async () => {
    await upload(page, 'tickets.csv', TICKETS);
    await page.getByText('Loaded tickets.csv').waitFor();
    expect(await page.getByTestId('row-count').textContent()).toBe('9 (CSV)');
    const preview = page.getByTestId('preview-table');
    expect(await preview.locator('th.col-input').textContent()).toBe('messageinput');
    expect(await preview.locator('th.col-output').textContent()).toBe('labeloutput');
    expect(await preview.locator('tbody tr').count()).toBe(6);
    // four labels → four bars (recharts draws them on its second render)
    const bars = page.getByTestId('label-chart').locator('.recharts-bar-rectangle');
    await bars.nth(3).waitFor();
    expect(await bars.count()).toBe(4);
    const check = await page.getByTestId('data-check').textContent();
    expect(check).toContain('1 row(s) repeat an earlier row exactly');
    expect(check).toContain('(row 5)');
    expect(check).toContain('1 empty row(s) skipped (row 7)');
  });

  it('re-maps columns when a select changes', async () => {
    await page.getByLabel('Input column (what the model reads)').selectOption('id');
    expect(await page.getByTestId('preview-table').locator('th.col-input').textContent()).toBe('idinput');
    await page.getByLabel('Input column (what the model reads)').selectOption('message');
    expect(await page.getByTestId('preview-table').locator('th.col-input').textContent()).toBe('messageinput');
  });

  it('names the file, row and fix of a malformed file and keeps the previous dataset', async () => {
    await upload(page, 'broken.csv', BROKEN);
    const alert = page.getByTestId('data-alert');
    await alert.waitFor();
    const text = await alert.textContent();
    expect(text).toContain('broken.csv could not be used (row 3)');
    expect(text).toContain('The row has no output (column "label" is empty); fill it in or delete the row.');
    expect(text).toContain('Still using tickets.csv (9 rows)');
    expect(await page.getByTestId('dataset-name').textContent()).toBe('tickets.csv');
    await page.locator('#step-data').screenshot({ path: join(SHOTS, 'studio-data.png') });
  });

  it('accepts a file dropped on the drop zone', async () => {
    await page.getByTestId('drop-zone').evaluate((zone, text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.tsv', { type: 'text/tab-separated-values' }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, 'question\tanswer\nWhere is my order?\tshipping\nRefund please\tbilling\n');
    await page.getByText('Loaded dropped.tsv').waitFor();
    expect(await page.getByTestId('row-count').textContent()).toBe('2 (TSV)');
    // a good file clears the earlier alert
    expect(await page.getByTestId('data-alert').count()).toBe(0);
  });

  it('opens advanced settings; rank and layers change the trainable parameters', async () => {
    const trainable = page.getByTestId('trainable-params');
    // Balanced on SmolLM2-135M: 8·(1152 + 768 + 768 + 1152) per layer × 30 layers
    expect(await trainable.textContent()).toMatch(/^921,600 /);
    const toggle = page.getByRole('button', { name: 'Advanced settings' });
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await page.getByLabel('Adapter size (rank)').selectOption('16');
    expect(await trainable.textContent()).toMatch(/^1,843,200 /);
    expect(await page.getByLabel('Strength (alpha)').inputValue()).toBe('32'); // alpha follows 2·rank
    // Tab from the last module checkbox lands on the first layer block; Space turns it off
    await page.getByLabel('down (down_proj)').focus();
    await page.keyboard.press('Tab');
    const layer0 = page.getByRole('button', { name: 'Layer 0', exact: true });
    expect(await layer0.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Space');
    expect(await layer0.getAttribute('aria-pressed')).toBe('false');
    expect(await trainable.textContent()).toMatch(/^1,781,760 /); // 29 of 30 layers
    expect(await page.getByTestId('memory-verdict').textContent()).toMatch(/^Fits/);
    await page.locator('#step-adapter').screenshot({ path: join(SHOTS, 'studio-adapter.png') });
    expect(errors).toEqual([]);
  });
});
