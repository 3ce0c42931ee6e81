import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run as evalCmd } from '../../src/cli/commands/eval.ts';
import { run as trainCmd } from '../../src/cli/commands/train.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';
import { capture } from './cli-helpers.ts';

describe('tsugiki train → evaluation.json, tsugiki eval on the same held-out rows', () => {
  it('reports the same evaluation, base and tuned, as eval --adapter --val-split --seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-train-eval-'));
    const modelDir = writeTinyModel(join(dir, 'model'), 'llama');
    const rows = Array.from({ length: 20 }, (_, i) => `word ${i},${['red', 'blue', 'green'][i % 3]}`);
    writeFileSync(join(dir, 'data.csv'), ['text,label', ...rows].join('\n'));
    const out = join(dir, 'out');
    const common = ['--val-split', '0.3', '--seed', '5'];
    const trained = await capture(trainCmd, [modelDir, '--data', join(dir, 'data.csv'), '--out', out, '--steps', '1', '--batch-size', '4', '--seq-len', '32', '--lr', '0.01', '--targets', 'all-linear', ...common, '--json']);
    expect(trained.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(JSON.parse(trained.out).final_evaluation).toEqual(saved);
    expect(saved.evaluation).toMatchObject({ kind: 'labels', rows: 6 });
    expect([...saved.evaluation.labels].sort()).toEqual(['blue', 'green', 'red']);
    const evaluated = await capture(evalCmd, [modelDir, '--data', join(dir, 'data.csv'), '--adapter', out, '--seq-len', '32', '--batch-size', '4', ...common, '--json']);
    const j = JSON.parse(evaluated.out);
    expect(j.rows).toHaveLength(6);
    expect(j.evaluation).toEqual(saved.evaluation);
    expect(j.base_evaluation).toEqual(saved.base_evaluation);
    expect(j.evaluation.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(6);
  });
});
