/**
 * Token-by-token generation runs its linears on the rows kernel (M = 1): real models, f32 and
 * quantized, give the same greedy tokens and, at every step, the same logits as on the general
 * matmul kernels (the same products summed in another order).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../src/gpu/recorder.ts';
import { generate } from '../../src/model/generate.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { testGpu } from '../helpers/gpu.ts';
import { relToMax } from '../helpers/numeric.ts';

const MODELS = new URL('../../../shared/data/models/', import.meta.url);
// f32 weights, and Q4_K + Q6_K blocks (each quant type's kernel is checked in tests/gpu/matmul-rows.test.ts).
const FILES = ['stories260K.gguf', 'quantized/k256-random-Q4_K_M.gguf'];
const NEW_TOKENS = 8;

describe('generation on the rows kernel', () => {
  it.each(FILES)('%s: greedy tokens and every step\'s logits equal those of the general kernels', async (file) => {
    const gpu = await testGpu();
    const model = loadModelFiles({ [file]: new Uint8Array(readFileSync(new URL(file, MODELS))) }, file);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: prompt.length + NEW_TOKENS, training: false, adapter: null });
    const greedy = async () => {
      const logits: Float32Array[] = [];
      const ids = await generate(net, prompt, { maxNewTokens: NEW_TOKENS, temperature: 0, seed: 0, stopIds: [], onLogits: (l) => logits.push(l.slice()) });
      return { ids, logits };
    };
    const spy = vi.spyOn(Recorder.prototype, 'dispatch');
    try {
      const rows = await greedy();
      // Every linear of a decode step (after the prompt's pass) ran on the rows kernel.
      const entries = spy.mock.calls.map(([d]) => d.pipeline.entry);
      const perStep = 7 * model.config.layers + 1;
      expect(entries.filter((e) => e === 'matmul_rows').length).toBeGreaterThanOrEqual((NEW_TOKENS - 1) * perStep);
      gpu.rowsMatmul = false;
      spy.mockClear();
      const general = await greedy();
      expect(spy.mock.calls.some(([d]) => d.pipeline.entry === 'matmul_rows')).toBe(false);
      expect(rows.ids).toEqual(general.ids);
      expect(rows.logits.length).toBe(NEW_TOKENS);
      const gaps = rows.logits.map((l, i) => relToMax(l, general.logits[i]));
      if (process.env.TSUGIKI_REPORT) console.log(`${file}: largest logit gap ${Math.max(...gaps).toExponential(2)} of the largest logit`);
      for (const [i, gap] of gaps.entries()) expect(gap, `step ${i}`).toBeLessThan(1e-5);
    } finally {
      gpu.rowsMatmul = true;
      spy.mockRestore();
      net.destroy();
    }
  });
});
