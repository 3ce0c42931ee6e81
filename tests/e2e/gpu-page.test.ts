import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStudio, launchChromium, OUTPUT_DIR, serveStudio } from './harness.ts';

describe('studio in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    await buildStudio();
    ({ server, url } = await serveStudio());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('shows the GPU it found and runs a kernel there that matches the CPU', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('gpu-name').textContent()).toMatch(/Found: .+/);
    await page.getByRole('button', { name: 'Check that this GPU computes correctly' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="self-test"]') !== null, undefined, { timeout: 60_000 });
    const text = await page.getByTestId('self-test').textContent();
    expect(text).toContain('GPU check passed');
    mkdirSync(join(OUTPUT_DIR, 'screenshots'), { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, 'screenshots', 'gpu.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('explains in plain words when the browser has no WebGPU', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Remove WebGPU from every worker this page starts, as in a browser without it.
    await page.route('**/assets/engine.worker-*.js', async (route) => {
      const response = await route.fetch();
      const body = `delete self.navigator.__proto__.gpu; Object.defineProperty(self.navigator, 'gpu', { value: undefined });\n${await response.text()}`;
      await route.fulfill({ response, body });
    });
    await page.goto(url);
    const alert = page.getByTestId('gpu-unavailable');
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.textContent()).toMatch(/WebGPU is not available in this browser\. Use a recent Chrome or Edge/);
    await context.close();
  });
});
