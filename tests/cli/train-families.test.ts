/**
 * `tsugiki train` on tiny Qwen3 and Gemma 3 checkpoints, every linear module adapted, AdamW:
 * the loss falls over a few steps on rows it sees repeatedly, and the PEFT adapter it writes
 * loads back for the same model.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/train.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';

describe('tsugiki train on Qwen3 and Gemma 3', () => {
  for (const kind of ['qwen3', 'gemma3'] as const) {
    it(`${kind}: all-linear AdamW lowers the loss and writes a PEFT adapter for the model`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `tsugiki-train-${kind}-`));
      const modelDir = writeTinyModel(join(dir, 'model'), kind);
      writeFileSync(join(dir, 'data.csv'), ['prompt,completion', 'one,uno', 'two,dos', 'three,tres', 'four,cuatro'].join('\n'));
      const out = join(dir, 'out');
      const code = await run([modelDir, '--data', join(dir, 'data.csv'), '--out', out, '--targets', 'all-linear', '--rank', '4', '--alpha', '8',
        '--lr', '0.02', '--steps', '12', '--batch-size', '4', '--val-split', '0', '--no-shuffle', '--dropout', '0', '--seed', '3', '--json']);
      expect(code).toBe(0);
      const losses = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => 'loss' in m).map((m) => m.loss as number);
      expect(losses).toHaveLength(12);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[11]).toBeLessThan(0.8 * losses[0]);
      const model = loadModelFromPath(modelDir);
      const adapter = importPeftAdapter(readFileSync(join(out, 'adapter_config.json'), 'utf8'), new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors'))), model.config);
      expect(adapter.layout.entries).toHaveLength(7 * model.config.layers);
    }, 120_000);
  }
});
