import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { generate } from '../../src/model/generate.ts';
import { testGpu } from '../helpers/gpu.ts';
import { disposeLlamaCpp, llamaCppGreedy, llamaCppNextTokenProbs } from '../helpers/llama-cpp.ts';

const FILE = fileURLToPath(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url));
const model = loadModelFiles({ 'stories260K.gguf': new Uint8Array(readFileSync(FILE)) }, 'stories260K.gguf');

afterAll(disposeLlamaCpp);

describe('stories260K.gguf: the engine and llama.cpp agree', () => {
  it('next-token probabilities at every position of a real sentence', async () => {
    const ids = model.tokenizer.encode('Once upon a time, there was a little dog named Max. He liked to run.', { addBos: true });
    const T = ids.length;
    const V = model.config.vocabSize;
    const gpu = await testGpu();
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: T, training: false, adapter: null });
    const logits = await net.logits({ B: 1, T, inputIds: Int32Array.from(ids), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] });
    net.destroy();
    const theirs = await llamaCppNextTokenProbs({ model: FILE }, ids);
    expect(theirs).toHaveLength(T);
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(Math.exp(row[v] - max) / sum - theirs[t][v]));
    }
    // Both run f32 weights and f32 attention; only the summation order differs: measured 1.5e-6.
    expect(worst).toBeLessThan(1e-5);
  });

  it('greedy tokens from BOS', async () => {
    const gpu = await testGpu();
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: 48, training: false, adapter: null });
    const ours = await generate(net, [model.tokenizer.bosId!], { maxNewTokens: 32, temperature: 0, seed: 0 });
    net.destroy();
    expect(await llamaCppGreedy({ model: FILE }, [model.tokenizer.bosId!], 32)).toEqual(ours);
  });
});
