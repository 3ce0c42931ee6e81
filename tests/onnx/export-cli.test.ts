/**
 * `tsugiki export-onnx`: a tiny GPT-2 folder with a PEFT adapter folder, written to disk and run
 * from there; the GGUF model as f16 with --json; refusals for bad arguments.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/commands/export-onnx.ts';
import { UsageError } from '../../src/cli/args.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';
import { ReferenceModel } from '../reference/model.ts';
import { normRelError, randomAdapter, session, STORIES_PATH, step } from './harness.ts';
import { fileURLToPath } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'tsugiki-export-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function quietly(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await run(argv), stdout };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('tsugiki export-onnx', () => {
  it('exports a GPT-2 folder with a PEFT adapter merged; the written model gives the reference logits', async () => {
    const modelDir = writeTinyModel(join(dir, 'gpt2'), 'gpt2');
    const model = loadModelFromPath(modelDir);
    const { adapter, ref } = randomAdapter(model.config, ['c_attn', 'c_fc'], 5);
    const cfg = { ...defaultAdapterConfig('gpt2'), rank: 4, alpha: 8, targets: ['c_attn', 'c_fc'] };
    const adapterDir = join(dir, 'adapter');
    mkdirSync(adapterDir);
    for (const [name, bytes] of Object.entries(exportPeftAdapter(adapter.layout, adapter.params, cfg, 'gpt2'))) writeFileSync(join(adapterDir, name), bytes);

    const outDir = join(dir, 'out-gpt2');
    expect((await quietly([modelDir, '--adapter', adapterDir, '--out', outDir])).code).toBe(0);
    expect(readdirSync(outDir).sort()).toEqual(['config.json', 'generation_config.json', 'onnx', 'tokenizer.json', 'tokenizer_config.json']);
    const s = await session(new Uint8Array(readFileSync(join(outDir, 'onnx/model.onnx'))));
    const tokens = [10, 20, 30, 40, 50];
    const got = (await step(s, model.config, [tokens])).logits;
    const want = new ReferenceModel(model.config, model.weights).forward(tokens, { lora: ref });
    expect(normRelError(got, want)).toBeLessThan(1e-4); // f32 graph vs float64 reference
  });

  it('exports the GGUF model as f16 and reports the files as JSON', async () => {
    const outDir = join(dir, 'out-stories');
    const { code, stdout } = await quietly([fileURLToPath(STORIES_PATH), '--out', outDir, '--dtype', 'f16', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { dtype: string; files: Record<string, number> };
    expect(report.dtype).toBe('f16');
    expect(Object.keys(report.files).sort()).toEqual(['config.json', 'generation_config.json', 'onnx/model_fp16.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readFileSync(join(outDir, 'onnx/model_fp16.onnx')).length).toBe(report.files['onnx/model_fp16.onnx']);
  });

  it('refuses missing --out, a bad dtype and a missing adapter folder', async () => {
    await expect(run([fileURLToPath(STORIES_PATH)])).rejects.toThrow(UsageError);
    await expect(run([fileURLToPath(STORIES_PATH), '--out', dir, '--dtype', 'bf16'])).rejects.toThrow(/--dtype bf16: choose f32 or f16/);
    await expect(run([fileURLToPath(STORIES_PATH), '--out', dir, '--adapter', join(dir, 'nope')])).rejects.toThrow(/has no adapter_config\.json/);
  });
});
