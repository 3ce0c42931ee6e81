/**
 * `tsugiki export-gguf` judged by llama.cpp (node-llama-cpp's CPU build): for stories260K and tiny
 * Hugging Face llama (GQA, llama3 RoPE scaling) and qwen2 (q/k/v biases, tied embeddings) models
 * with a random adapter on every linear module,
 *
 * - base GGUF + our adapter GGUF through llama.cpp's LoRA API gives the engine's greedy tokens
 *   (`tsugiki generate --adapter`) and its next-token probabilities within 2e-5;
 * - our merged F16 GGUF in llama.cpp equals the engine on the merged F16 weights (loaded back
 *   from that file) within 2e-3 (llama.cpp rounds activations to f16 for f16 weights);
 * - merged Q8_0 and Q4_K_M files load and their loss on held-out rows is within 0.02 and 0.15
 *   nats of the F16 file's (tiny qwen2's 24-wide rows fit no block, so its files fall back to F16,
 *   as llama-quantize does).
 * Measured: adapter 2.6e-6 (stories260K), 7e-7 (llama), 1.7e-7 (qwen2); merged F16 2.3e-4;
 * stories260K loss Q8_0 − F16 = +0.009, Q4_K_M − F16 = −0.002 nats.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/export-gguf.ts';
import { loraScale, type AdapterConfig } from '../../src/lora/config.ts';
import { planAdapterLayout } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { generate } from '../../src/model/generate.ts';
import type { LoadedModel } from '../../src/model/load-source.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { Network } from '../../src/model/network.ts';
import { testGpu } from '../helpers/gpu.ts';
import { disposeLlamaCpp, llamaCppGreedy, llamaCppMaskedLoss, llamaCppNextTokenProbs } from '../helpers/llama-cpp.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';

const STORIES = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url).pathname;

afterAll(disposeLlamaCpp);

function writeRandomAdapter(model: LoadedModel, dir: string) {
  const cfg: AdapterConfig = { rank: 4, alpha: 8, dropout: 0, targets: 'all-linear', layers: null, rslora: true, init: 'default', seed: 0 };
  const layout = planAdapterLayout(adapterModules(model.config, cfg), cfg.rank);
  const params = Float32Array.from({ length: layout.totalFloats }, (_, i) => 0.04 * Math.sin(i * 0.37 + 1));
  for (const [name, bytes] of Object.entries(exportPeftAdapter(layout, params, cfg, model.config.arch))) writeFileSync(join(dir, name), bytes);
  return { cfg, layout, params };
}

async function engineProbs(model: LoadedModel, adapter: ReturnType<typeof writeRandomAdapter> | null, ids: number[]): Promise<Float64Array[]> {
  const gpu = await testGpu();
  const T = ids.length;
  const V = model.config.vocabSize;
  const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: T, training: false, adapter: adapter ? { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 } : null });
  if (adapter) net.setAdapterParams(adapter.params);
  const logits = await net.logits({ B: 1, T, inputIds: Int32Array.from(ids), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] });
  net.destroy();
  return Array.from({ length: T }, (_, t) => {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const e = Float64Array.from(row, (x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  });
}

async function engineGreedy(model: LoadedModel, adapter: ReturnType<typeof writeRandomAdapter>, prompt: number[], n: number): Promise<number[]> {
  const gpu = await testGpu();
  const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: prompt.length + n, training: false, adapter: { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 } });
  net.setAdapterParams(adapter.params);
  const out = await generate(net, prompt, { maxNewTokens: n, temperature: 0, seed: 0 });
  net.destroy();
  // llama.cpp's greedy helper stops before an end-of-generation token; the engine returns it.
  return out.at(-1) === model.tokenizer.eosId ? out.slice(0, -1) : out;
}

function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let worst = 0;
  for (let t = 0; t < a.length; t++) for (let v = 0; v < a[t].length; v++) worst = Math.max(worst, Math.abs(a[t][v] - b[t][v]));
  return worst;
}

const measured: Record<string, number> = {};

async function checkModel(label: string, modelPath: string, dir: string, sequences: number[][], promptLength: number) {
  const base = loadModelFromPath(modelPath);
  const adapter = writeRandomAdapter(base, dir);
  // The base model as llama.cpp loads it: the source GGUF itself, or our F32 conversion of the HF folder.
  let baseGguf = modelPath;
  if (!modelPath.endsWith('.gguf')) {
    expect(await run([modelPath, '--merged', 'f32', '--out', join(dir, 'base')])).toBe(0);
    baseGguf = join(dir, 'base', readdir(join(dir, 'base')));
  }
  const adapterGguf = join(dir, 'adapter.gguf');
  expect(await run([modelPath, '--adapter', dir, '--out', adapterGguf])).toBe(0);

  const ids = sequences[0];
  const ours = await engineProbs(base, adapter, ids);
  const theirs = await llamaCppNextTokenProbs({ model: baseGguf, adapters: [{ file: adapterGguf }] }, ids);
  const plain = await llamaCppNextTokenProbs({ model: baseGguf }, ids);
  measured[`${label} adapter |dp|`] = maxDiff(ours, theirs);
  expect(maxDiff(ours, theirs)).toBeLessThan(2e-5);
  expect(maxDiff(plain, theirs)).toBeGreaterThan(1e-3); // the adapter really changes the model in llama.cpp
  const prompt = ids.slice(0, promptLength);
  expect(await llamaCppGreedy({ model: baseGguf, adapters: [{ file: adapterGguf }] }, prompt, 12)).toEqual(await engineGreedy(base, adapter, prompt, 12));

  const loss: Record<string, number> = {};
  for (const type of ['f16', 'q8_0', 'q4_k_m']) {
    const out = join(dir, `merged-${type}`);
    expect(await run([modelPath, '--adapter', dir, '--merged', type, '--out', out])).toBe(0);
    const file = join(out, readdir(out));
    let sum = 0;
    for (const seq of sequences) sum += await llamaCppMaskedLoss({ model: file }, seq, seq.map((_, t) => (t >= promptLength ? 1 : 0)));
    loss[type] = sum / sequences.length;
    if (type === 'f16' && modelPath.endsWith('.gguf')) {
      // The engine on the merged F16 weights, read back from the same file.
      const merged = loadModelFromPath(file);
      const d = maxDiff(await engineProbs(merged, null, ids), await llamaCppNextTokenProbs({ model: file }, ids));
      measured[`${label} merged F16 |dp|`] = d;
      expect(d).toBeLessThan(2e-3);
    }
    if (type === 'f16') {
      measured[`${label} merged F16 vs adapter |dp|`] = maxDiff(await llamaCppNextTokenProbs({ model: file }, ids), theirs);
      expect(measured[`${label} merged F16 vs adapter |dp|`]).toBeLessThan(5e-3);
    }
  }
  measured[`${label} loss Q8_0 - F16`] = loss.q8_0 - loss.f16;
  measured[`${label} loss Q4_K_M - F16`] = loss.q4_k_m - loss.f16;
  expect(Math.abs(loss.q8_0 - loss.f16)).toBeLessThan(0.02);
  expect(Math.abs(loss.q4_k_m - loss.f16)).toBeLessThan(0.15);
}

const readdir = (dir: string) => readdirSync(dir).find((n) => n.endsWith('.gguf'))!;

describe('export-gguf in llama.cpp', () => {
  it('stories260K (GGUF source)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-gguf-stories-'));
    const model = loadModelFromPath(STORIES);
    const texts = ['Once upon a time, there was a little girl named Lily.', 'The dog ran to the park and played with a ball.', 'Tom was sad because his toy was broken.'];
    const seqs = texts.map((t) => model.tokenizer.encode(t, { addBos: true }).slice(0, 14));
    await checkModel('stories260K', STORIES, dir, seqs, 4);
  });

  for (const kind of ['llama', 'qwen2'] as const) {
    it(`tiny HF ${kind} folder`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `tsugiki-gguf-${kind}-`));
      const modelDir = writeTinyModel(join(dir, 'model'), kind);
      const seqs = [[0, 5, 17, 33, 60, 2, 9, 41, 77, 12], [0, 8, 8, 19, 44, 3, 70, 61, 30, 22], [0, 90, 1, 14, 52, 36, 7, 88, 25, 4]];
      await checkModel(kind, modelDir, dir, seqs, 3);
    });
  }
});
