#!/usr/bin/env node
// The `tsugiki` command: TypeScript sources run through tsx, so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
