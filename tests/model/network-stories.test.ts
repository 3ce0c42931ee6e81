import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { ReferenceModel } from '../reference/model.ts';
import { testGpu } from '../helpers/gpu.ts';
import { logitsError } from './network-helpers.ts';

const bytes = new Uint8Array(readFileSync(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url)));
const model = loadModelFiles({ 'stories260K.gguf': bytes }, 'stories260K.gguf');

describe('stories260K.gguf on the GPU', () => {
  it('logits of a real sentence equal the float64 reference', async () => {
    const gpu = await testGpu();
    const ids = model.tokenizer.encode('Once upon a time, there was a little dog named Max. He liked to run in the park.', { addBos: true });
    const T = ids.length;
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: T, training: false, adapter: null });
    const batch = { B: 1, T, inputIds: Int32Array.from(ids), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] };
    await net.logits(batch); // warm-up: pipelines compile once
    const t0 = performance.now();
    const logits = await net.logits(batch);
    const ms = performance.now() - t0;
    const err = logitsError(logits, [new ReferenceModel(model.config, model.weights).forward(ids)], [T], T, model.config.vocabSize);
    if (process.env.TSUGIKI_REPORT) console.log(`stories260K forward of ${T} tokens: ${ms.toFixed(1)} ms`, err);
    expect(err.rel).toBeLessThan(1e-4); // real weights, 5 layers, f32: measured ~1e-6
    net.destroy();
  });
});
