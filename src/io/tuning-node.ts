/**
 * Matmul tunings kept in a JSON file (default `~/.cache/tsugiki/matmul-tuning.json`), by adapter
 * name, for the CLI. A file that cannot be read or parsed counts as empty (the search runs again);
 * it is written to a temporary name and renamed, so a crash never leaves half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseTuning, type MatmulTuning, type TuningStore } from '../kernels/matmul-tune.ts';

export function defaultTuningFile(): string {
  return join(homedir(), '.cache', 'tsugiki', 'matmul-tuning.json');
}

export class NodeTuningStore implements TuningStore {
  constructor(readonly file: string = defaultTuningFile()) {}

  private all(): Record<string, unknown> {
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  }

  read(adapter: string): MatmulTuning | null {
    return parseTuning(this.all()[adapter]);
  }

  write(adapter: string, tuning: MatmulTuning): void {
    const all = { ...this.all(), [adapter]: tuning };
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`);
    renameSync(temp, this.file);
  }
}
