import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/merge.ts';
import { makeBatches } from '../../src/data/batch.ts';
import { loraScale, type AdapterConfig } from '../../src/lora/config.ts';
import { planAdapterLayout } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import type { LoadedModel } from '../../src/model/load-source.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { Network } from '../../src/model/network.ts';
import { testGpu } from '../helpers/gpu.ts';
import { maxRelError } from '../helpers/numeric.ts';
import { tinyModelFiles, writeTinyModel } from '../helpers/tiny-models.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { mergedGguf } from '../../src/train/gguf-files.ts';

const STORIES = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url).pathname;

/** An adapter with random A and B (B ≠ 0, so the merge changes the weights), written as PEFT files. */
function randomAdapter(model: LoadedModel, dir: string, targets: AdapterConfig['targets']) {
  const cfg: AdapterConfig = { rank: 4, alpha: 8, dropout: 0, targets, layers: null, rslora: false, init: 'default', seed: 0 };
  const layout = planAdapterLayout(adapterModules(model.config, cfg), cfg.rank);
  const params = Float32Array.from({ length: layout.totalFloats }, (_, i) => 0.05 * Math.sin(i * 0.37 + 1));
  for (const [name, bytes] of Object.entries(exportPeftAdapter(layout, params, cfg, model.config.arch))) writeFileSync(join(dir, name), bytes);
  return { cfg, layout, params };
}

async function compareLogits(base: LoadedModel, merged: LoadedModel, adapter: ReturnType<typeof randomAdapter>) {
  const gpu = await testGpu();
  const ids = [1, 7, 42, 3, 9, 11, 5, 2];
  const batch = makeBatches([{ inputIds: ids, lossMask: ids.map(() => 0), truncated: false, promptLength: ids.length }], 1, { shuffle: false, seed: 0, padId: 0 })[0];
  const withAdapter = await Network.create(gpu, base, { maxBatch: 1, maxSeq: 16, training: false, adapter: { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 } });
  withAdapter.setAdapterParams(adapter.params);
  const a = await withAdapter.logits(batch);
  withAdapter.destroy();
  const plainBase = await Network.create(gpu, base, { maxBatch: 1, maxSeq: 16, training: false, adapter: null });
  const b0 = await plainBase.logits(batch);
  plainBase.destroy();
  const mergedNet = await Network.create(gpu, merged, { maxBatch: 1, maxSeq: 16, training: false, adapter: null });
  const m = await mergedNet.logits(batch);
  mergedNet.destroy();
  const scale = Math.max(...Array.from(a, Math.abs));
  let worst = 0;
  let moved = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - m[i]) / scale);
    moved = Math.max(moved, Math.abs(a[i] - b0[i]) / scale);
  }
  // merged weights vs the LoRA branch: f32 rounding of W + s·B·A vs a separate f32 path, 1e-4 of the logit range
  expect(worst).toBeLessThan(1e-4);
  expect(moved).toBeGreaterThan(1e-3); // the adapter really changes the logits
}

describe('tsugiki merge', () => {
  it('an HF folder merged equals base + adapter in logits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-merge-'));
    const modelDir = writeTinyModel(join(dir, 'model'), 'llama');
    const base = loadModelFromPath(modelDir);
    const adapter = randomAdapter(base, dir, 'all-linear');
    expect(await run([modelDir, '--adapter', dir, '--out', join(dir, 'merged')])).toBe(0);
    await compareLogits(base, loadModelFromPath(join(dir, 'merged')), adapter);
  }, 120_000);

  for (const kind of ['qwen3', 'gemma3'] as const) {
    it(`${kind}: an HF folder merged equals base + adapter in logits (q/k and Gemma's norms untouched)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `tsugiki-merge-${kind}-`));
      const modelDir = writeTinyModel(join(dir, 'model'), kind);
      const base = loadModelFromPath(modelDir);
      const adapter = randomAdapter(base, dir, 'all-linear');
      expect(await run([modelDir, '--adapter', dir, '--out', join(dir, 'merged')])).toBe(0);
      const merged = loadModelFromPath(join(dir, 'merged'));
      expect(merged.config).toEqual(base.config);
      for (const name of base.weights.names().filter((n) => n.endsWith('norm.weight'))) {
        expect(Array.from(merged.weights.toF32(name)), name).toEqual(Array.from(base.weights.toF32(name)));
      }
      await compareLogits(base, merged, adapter);
    }, 120_000);
  }

  it('a Gemma 3 GGUF model merges into a Gemma3ForCausalLM folder with w (not 1 + w) norms', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-merge-gemma-gguf-'));
    const files = tinyModelFiles('gemma3', { config: { num_hidden_layers: 6, layer_types: null, sliding_window: 4, query_pre_attn_scalar: 16 } });
    const hf = loadModelFiles(files, 'tiny-gemma3');
    writeFileSync(join(dir, 'gemma.gguf'), mergedGguf(hf, files, null, { fileType: 'F32' }));
    const base = loadModelFromPath(join(dir, 'gemma.gguf'));
    const adapter = randomAdapter(base, dir, 'all-linear');
    expect(await run([join(dir, 'gemma.gguf'), '--adapter', dir, '--out', join(dir, 'merged')])).toBe(0);
    const merged = loadModelFromPath(join(dir, 'merged'));
    expect(merged.config).toMatchObject({ hfModelType: 'gemma3_text', normPlusOne: true, layerWindows: base.config.layerWindows });
    expect(maxRelError(merged.weights.toF32('model.norm.weight'), hf.weights.toF32('model.norm.weight'), 1)).toBeLessThan(1.2e-7);
    // The GGUF's byte-level BPE vocabulary becomes a tokenizer.json that encodes as the original.
    expect(merged.tokenizer.encode('Hello, grafting!')).toEqual(hf.tokenizer.encode('Hello, grafting!'));
    await compareLogits(base, merged, adapter);
  }, 120_000);

  it('a GGUF model (stories260K) is written in HF names with a derived config.json and tokenizer.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-merge-gguf-'));
    copyFileSync(STORIES, join(dir, 'stories260K.gguf'));
    const base = loadModelFromPath(join(dir, 'stories260K.gguf'));
    const adapter = randomAdapter(base, dir, ['q_proj', 'v_proj', 'down_proj']);
    expect(await run([join(dir, 'stories260K.gguf'), '--adapter', dir, '--out', join(dir, 'merged')])).toBe(0);
    const merged = loadModelFromPath(join(dir, 'merged'));
    expect(merged.config).toMatchObject({ arch: 'llama', hidden: base.config.hidden, layers: base.config.layers, vocabSize: base.config.vocabSize });
    expect(merged.tokenizer.encode('Once upon a time')).toEqual(base.tokenizer.encode('Once upon a time'));
    await compareLogits(base, merged, adapter);
  }, 120_000);
});
