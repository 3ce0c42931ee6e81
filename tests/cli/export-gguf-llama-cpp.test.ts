/**
 * `tsugiki export-gguf` judged by llama.cpp (node-llama-cpp's CPU build): for stories260K and tiny
 * Hugging Face llama (GQA, llama3 RoPE scaling) and qwen2 (q/k/v biases, tied embeddings) models
 * with a random adapter on every linear module,
 *
 * - base GGUF + our adapter GGUF through llama.cpp's LoRA API gives the engine's greedy tokens
 *   (`tsugiki generate --adapter`) and its next-token probabilities within 2e-5;
 * - our merged F16 GGUF in llama.cpp equals the engine on the merged F16 weights (loaded back
 *   from that file) within 2e-3 (llama.cpp rounds activations to f16 for f16 weights);
 * - merged Q8_0 and Q4_K_M files load and their loss on held-out rows is within 0.04 and 0.15
 *   nats of the F16 file's (tiny qwen2's 24-wide rows fit no block: its files would be F16, as
 *   llama-quantize's would, so it checks F16 only).
 * GPT-2 (fused attn_qkv, Conv1D weights) within 5e-4: llama.cpp's CPU GELU is an f16 lookup table.
 * Measured: adapter 2.6e-6 (stories260K; its F16 file 5e-5 from the F32 one), 7e-7 (llama), 1.7e-7 (qwen2), 1.1e-4 (gpt2); merged F16 2.3e-4;
 * loss Q8_0 − F16: +0.009 (stories260K), −0.016 (llama), −0.010 (gpt2); Q4_K_M − F16: −0.002,
 * −0.078, +0.074 nats (the tiny models are random, so their losses move more).
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
import { disposeLlamaCpp, llamaCppGreedy, llamaCppMeanMaskedLoss, llamaCppNextTokenProbs } from '../helpers/llama-cpp.ts';
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

function softmaxRows(logits: Float32Array, T: number, V: number): Float64Array[] {
  return Array.from({ length: T }, (_, t) => {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const e = Float64Array.from(row, (x) => Math.exp(x - max));
    const sum = e.reduce((x, y) => x + y, 0);
    return e.map((x) => x / sum);
  });
}

/** The engine's next-token probabilities on `ids` and (with an adapter) its greedy continuation of `prompt`, from one network. */
async function engineRun(model: LoadedModel, adapter: ReturnType<typeof writeRandomAdapter> | null, ids: number[], prompt: number[], n: number) {
  const gpu = await testGpu();
  const T = ids.length;
  const net = await Network.create(gpu, model, {
    maxBatch: 1, maxSeq: Math.max(T, prompt.length + n), training: false,
    adapter: adapter ? { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 } : null,
  });
  if (adapter) net.setAdapterParams(adapter.params);
  const logits = await net.logits({ B: 1, T, inputIds: Int32Array.from(ids), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] });
  const out = n > 0 ? await generate(net, prompt, { maxNewTokens: n, temperature: 0, seed: 0 }) : [];
  net.destroy();
  // llama.cpp's greedy helper stops before an end-of-generation token; the engine returns it.
  const greedy = out.at(-1) === model.tokenizer.eosId ? out.slice(0, -1) : out;
  return { probs: softmaxRows(logits, T, model.config.vocabSize), greedy };
}

function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let worst = 0;
  for (let t = 0; t < a.length; t++) for (let v = 0; v < a[t].length; v++) worst = Math.max(worst, Math.abs(a[t][v] - b[t][v]));
  return worst;
}

const measured: Record<string, number> = {};

async function checkModel(label: string, modelPath: string, dir: string, sequences: number[][], promptLength: number, quantized: boolean) {
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
  const prompt = ids.slice(0, promptLength);
  const ours = await engineRun(base, adapter, ids, prompt, 12);
  const withAdapter = { model: baseGguf, adapters: [{ file: adapterGguf }] };
  const theirs = await llamaCppNextTokenProbs(withAdapter, ids);
  measured[`${label} adapter |dp|`] = maxDiff(ours.probs, theirs);
  // GPT-2: llama.cpp's CPU GELU reads an f16 table, 1.3e-4 off the engine on the base model alone.
  expect(maxDiff(ours.probs, theirs)).toBeLessThan(label === 'gpt2' ? 5e-4 : 2e-5);
  expect(maxDiff(await llamaCppNextTokenProbs({ model: baseGguf }, ids), theirs)).toBeGreaterThan(1e-3); // the adapter really changes the model in llama.cpp
  expect(await llamaCppGreedy(withAdapter, prompt, 12)).toEqual(ours.greedy);
  if (label === 'stories260K') {
    // The F16 adapter file: the same adapter rounded to 16 bits.
    const f16 = join(dir, 'adapter-f16.gguf');
    expect(await run([modelPath, '--adapter', dir, '--dtype', 'f16', '--out', f16])).toBe(0);
    measured[`${label} F16 adapter |dp|`] = maxDiff(await llamaCppNextTokenProbs({ model: baseGguf, adapters: [{ file: f16 }] }, ids), theirs);
    expect(measured[`${label} F16 adapter |dp|`]).toBeLessThan(1e-3);
  }

  const rows = sequences.map((seq) => ({ ids: seq, mask: seq.map((_, t) => (t >= promptLength ? 1 : 0)) }));
  const loss: Record<string, number> = {};
  for (const type of quantized ? ['f16', 'q8_0', 'q4_k_m'] : ['f16']) {
    const out = join(dir, `merged-${type}`);
    expect(await run([modelPath, '--adapter', dir, '--merged', type, '--out', out])).toBe(0);
    const file = join(out, readdir(out));
    loss[type] = await llamaCppMeanMaskedLoss({ model: file }, rows);
    if (type !== 'f16') continue;
    const mergedProbs = await llamaCppNextTokenProbs({ model: file }, ids);
    measured[`${label} merged F16 vs adapter |dp|`] = maxDiff(mergedProbs, theirs);
    expect(measured[`${label} merged F16 vs adapter |dp|`]).toBeLessThan(5e-3);
    if (modelPath.endsWith('.gguf')) {
      // The engine on the merged F16 weights, read back from the same file.
      measured[`${label} merged F16 |dp|`] = maxDiff((await engineRun(loadModelFromPath(file), null, ids, [], 0)).probs, mergedProbs);
      expect(measured[`${label} merged F16 |dp|`]).toBeLessThan(2e-3);
    }
  }
  if (process.env.TSUGIKI_PRINT_MEASURED) console.log(JSON.stringify(measured));
  if (!quantized) return;
  measured[`${label} loss Q8_0 - F16`] = loss.q8_0 - loss.f16;
  measured[`${label} loss Q4_K_M - F16`] = loss.q4_k_m - loss.f16;
  expect(Math.abs(loss.q8_0 - loss.f16)).toBeLessThan(0.04);
  expect(Math.abs(loss.q4_k_m - loss.f16)).toBeLessThan(0.15);
}

const readdir = (dir: string) => readdirSync(dir).find((n) => n.endsWith('.gguf'))!;

describe('export-gguf in llama.cpp', () => {
  it('stories260K (GGUF source)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-gguf-stories-'));
    const model = loadModelFromPath(STORIES);
    const texts = ['Once upon a time, there was a little girl named Lily.', 'The dog ran to the park and played with a ball.', 'Tom was sad because his toy was broken.'];
    const seqs = texts.map((t) => model.tokenizer.encode(t, { addBos: true }).slice(0, 14));
    await checkModel('stories260K', STORIES, dir, seqs, 4, true);
  });

  for (const kind of ['llama', 'qwen2', 'gpt2'] as const) {
    it(`tiny HF ${kind} folder`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `tsugiki-gguf-${kind}-`));
      const modelDir = writeTinyModel(join(dir, 'model'), kind);
      const seqs = [[0, 5, 17, 33, 60, 2, 9, 41, 77, 12], [0, 8, 8, 19, 44, 3, 70, 61, 30, 22], [0, 90, 1, 14, 52, 36, 7, 88, 25, 4]];
      // qwen2's rows of 24 fit no quantized block (its files would be F16 throughout): F16 only.
      await checkModel(kind, modelDir, dir, seqs, 3, kind !== 'qwen2');
    });
  }
});
