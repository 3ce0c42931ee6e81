import { build } from 'vite';
import { DIST, ROOT } from './paths.ts';

/**
 * Vitest global setup: builds the studio once, exactly as `npm run build` does, before any test
 * file runs, so parallel end-to-end files never rebuild (and empty) the folder another one serves.
 */
export default async function setup(): Promise<void> {
  await build({ root: ROOT, logLevel: 'warn', build: { outDir: DIST, emptyOutDir: true } });
}
