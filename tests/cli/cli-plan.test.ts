import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as plan } from '../../src/cli/commands/plan.ts';
import { configFromHf } from '../../src/model/config.ts';
import { planRun } from '../../src/model/plan-run.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';
import { QWEN25_05B } from '../model/config-hub-samples.ts';
import { capture } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsugiki-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsugiki plan', () => {
  it('plans from a folder holding only config.json, by owner, as the engine plans it', async () => {
    const qwen = join(dir, 'qwen');
    writeTinyModelConfigOnly(qwen);
    const { code, out } = await capture(plan, [qwen, '--rank', '16', '--targets', 'all-linear', '--batch-size', '8', '--seq-len', '256', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    const want = planRun(configFromHf(QWEN25_05B), {
      batchSize: 8, seqLen: 256, training: true, recompute: 'auto', adapter: { rank: 16, targets: 'all-linear', layers: null },
    });
    expect(j.peak_bytes).toBe(want.peakBytes);
    expect(j.owners).toEqual(want.owners);
    expect(j.recompute).toBe(1);
    // 24 layers of bf16 weights, 494M parameters: 0.92 GiB.
    expect(j.owners.weights / 1024 ** 3).toBeCloseTo(0.92, 2);
    const text = await capture(plan, [qwen, '--rank', '16', '--targets', 'all-linear', '--batch-size', '8', '--seq-len', '256', '--no-recompute']);
    expect(text.out).toMatch(/peak +4\.91 GiB/);
    expect(text.out).toContain('does not fit the 4.00 GiB budget');
  });

  it('reads the tensor types from the safetensors headers when the weights are there', async () => {
    const tiny = join(dir, 'tiny');
    writeTinyModel(tiny, 'llama', { dtype: 'BF16' });
    const { out } = await capture(plan, [tiny, '--json', '--batch-size', '2', '--seq-len', '16']);
    const j = JSON.parse(out);
    expect(j.owners.weights).toBeGreaterThan(0);
    const f32 = join(dir, 'tiny32');
    writeTinyModel(f32, 'llama', { dtype: 'F32' });
    const j32 = JSON.parse((await capture(plan, [f32, '--json', '--batch-size', '2', '--seq-len', '16'])).out);
    expect(j32.owners.weights).toBeGreaterThan(1.9 * j.owners.weights);
  });

  it('says what is missing', async () => {
    await expect(plan([join(dir, 'nothing-here')])).rejects.toThrow(/no such file or folder/);
    await expect(plan([dir])).rejects.toThrow(/has no config.json/);
  });
});

function writeTinyModelConfigOnly(path: string): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'config.json'), JSON.stringify(QWEN25_05B));
}
