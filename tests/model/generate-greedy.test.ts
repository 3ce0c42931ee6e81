import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { generate } from '../../src/model/generate.ts';
import { argmax } from '../../src/model/sampling.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { tinyModel } from './network-helpers.ts';
import type { Batch } from '../../src/data/batch.ts';

function oneRow(ids: number[]): Batch {
  const T = ids.length;
  return { B: 1, T, inputIds: Int32Array.from(ids), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] };
}

describe('generation with a KV cache', () => {
  // Gemma 3's sliding layers (window 3) decode 12 tokens after a 3-token prompt: the cache path slides too.
  for (const kind of ['llama', 'qwen3', 'gemma3', 'gpt2'] as const) {
    it(`${kind}: greedy tokens with the cache equal greedy tokens recomputed from scratch each step`, async () => {
      const gpu = await testGpu();
      const model = tinyModel(kind);
      const prompt = [5, 17, 42];
      const n = 12;
      const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: prompt.length + n, training: false, adapter: null });
      const streamed: number[] = [];
      const cached = await generate(net, prompt, { maxNewTokens: n, temperature: 0, seed: 0, stopIds: [], onToken: (id) => streamed.push(id) });
      const scratch: number[] = [];
      const seq = [...prompt];
      for (let i = 0; i < n; i++) {
        const logits = await net.logits(oneRow(seq));
        const V = model.config.vocabSize;
        const next = argmax(logits.subarray((seq.length - 1) * V, seq.length * V));
        scratch.push(next);
        seq.push(next);
      }
      expect(cached).toEqual(scratch);
      expect(streamed).toEqual(cached);
      // And both equal the float64 reference's greedy tokens.
      expect(cached).toEqual(new ReferenceModel(model.config, model.weights).greedy(prompt, n));
      net.destroy();
    });
  }

  it('stories260K.gguf: 40 greedy tokens from BOS equal the CPU reference\'s (the Lily story)', async () => {
    const gpu = await testGpu();
    const bytes = new Uint8Array(readFileSync(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url)));
    const model = loadModelFiles({ 'stories260K.gguf': bytes }, 'stories260K.gguf');
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: 64, training: false, adapter: null });
    const bos = model.tokenizer.bosId!;
    const eos = model.tokenizer.eosId!;
    const t0 = performance.now();
    const ids = await generate(net, [bos], { maxNewTokens: 40, temperature: 0, seed: 0 });
    const ms = performance.now() - t0;
    const text = model.tokenizer.decode(ids);
    if (process.env.TSUGIKI_REPORT) console.log(`GPU greedy (${ms.toFixed(0)} ms for 40 tokens): ${JSON.stringify(text)}`);
    expect(ids).toEqual(new ReferenceModel(model.config, model.weights).greedy([bos], 40, { stopIds: [eos] }));
    expect(text.startsWith('Once upon a time, there was a little girl named Lily')).toBe(true);
    net.destroy();
  });

  it('refuses an empty prompt and a bad temperature', async () => {
    const gpu = await testGpu();
    const net = await Network.create(gpu, tinyModel('llama'), { maxBatch: 1, maxSeq: 4, training: false, adapter: null });
    await expect(generate(net, [], { maxNewTokens: 2, temperature: 0, seed: 0 })).rejects.toThrow(/prompt is empty/);
    await expect(generate(net, [3], { maxNewTokens: 2, temperature: -1, seed: 0 })).rejects.toThrow(/temperature/);
    net.destroy();
  });
});
