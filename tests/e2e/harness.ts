import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DIST, OUTPUT_DIR } from './paths.ts';

export { OUTPUT_DIR };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.csv': 'text/csv',
};

/** The studio is built once per test run by the global setup (build-once.ts); this checks it is there. */
export async function buildStudio(): Promise<void> {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`The built studio is missing at ${DIST}: run the tests through vitest (its global setup builds it).`);
  }
}

/** Serves the built studio on 127.0.0.1 and records every request path it receives. */
export async function serveStudio(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    let file = join(DIST, path === '/' ? 'index.html' : path);
    if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) file = join(DIST, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}/`, server, requests };
}

/** Headless Chromium from Debian with WebGPU on SwiftShader, and no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-angle=swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export const SHOTS = join(OUTPUT_DIR, 'screenshots');

export interface StudioPage {
  page: Page;
  url: string;
  /** Uncaught errors of the page, collected as they happen. */
  errors: string[];
  close: () => Promise<void>;
}

/** The built studio served locally, open in a fresh headless Chromium page (1200×900). */
export async function openStudio(): Promise<StudioPage> {
  await buildStudio();
  const { server, url } = await serveStudio();
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  mkdirSync(SHOTS, { recursive: true });
  return {
    page,
    url,
    errors,
    close: async () => {
      await browser.close();
      server.close();
    },
  };
}
