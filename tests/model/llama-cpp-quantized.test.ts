/**
 * Every quantized GGUF file that llama.cpp's quantizer wrote (../shared/data/models/quantized): the
 * engine's per-row masked losses on the quantized weights against llama.cpp's on the same ids, and
 * against the float64 reference model on the dequantized weights (the exact math, tight).
 */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { EncodedExample } from '../../src/data/prompt.ts';
import { rowLosses } from '../../src/eval/score.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { Network } from '../../src/model/network.ts';
import { testGpu } from '../helpers/gpu.ts';
import { disposeLlamaCpp, llamaCppMaskedLoss } from '../helpers/llama-cpp.ts';
import { ReferenceModel } from '../reference/model.ts';

const DIR = new URL('../../../shared/data/models/quantized/', import.meta.url);
const FILES = [
  'stories260K-Q8_0', 'stories260K-Q4_0', 'stories260K-Q4_1', 'stories260K-Q5_0', 'stories260K-Q5_1',
  'k256-random-Q2_K', 'k256-random-Q3_K_M', 'k256-random-Q4_K_M', 'k256-random-Q5_K_M', 'k256-random-Q6_K',
];

/**
 * llama.cpp's CPU backend quantizes the activations to Q8_0 (Q8_K for K-quant weights) before its
 * quantized dot products; the engine keeps them f32. So the two differ by that activation rounding,
 * not by f32 rounding (< 1e-4 nats per token on k256-random-F32). Measured gap of the mean loss of
 * a row (nats; rows count ~12 tokens): stories260K Q8_0 0.0038, Q4_0 0.011, Q4_1 0.0066, Q5_0
 * 0.013, Q5_1 0.0066; k256-random (random weights, loss ≈ 7, which amplify the activation
 * rounding: single tokens differ by up to 0.12, with either sign, in every K type alike) Q2_K
 * 0.010, Q3_K_M 0.015, Q4_K_M 0.0033, Q5_K_M 0.030, Q6_K 0.0068. Bounds: about twice the worst.
 */
const BOUND = (name: string) => (name.startsWith('stories') ? 0.03 : 0.06);

afterAll(disposeLlamaCpp);

const SENTENCES = [
  'Once upon a time, there was a little dog named Max. He liked to run in the park.',
  'Lily saw a big red ball. She wanted to play with it, so she asked her mom.',
];

describe('quantized GGUF files: the engine and llama.cpp give the same per-row losses', () => {
  it.each(FILES)('%s', async (name) => {
    const file = fileURLToPath(new URL(`${name}.gguf`, DIR));
    const model = loadModelFiles({ [`${name}.gguf`]: new Uint8Array(readFileSync(file)) }, `${name}.gguf`);
    const examples: EncodedExample[] = SENTENCES.map((s) => {
      const ids = model.tokenizer.encode(s, { addBos: true });
      // Count the second half of each row, as an eval row counts its completion.
      const mask = ids.map((_, i) => (i >= ids.length / 2 ? 1 : 0));
      return { inputIds: ids, lossMask: mask, truncated: false, promptLength: Math.ceil(ids.length / 2) };
    });
    const T = Math.max(...examples.map((e) => e.inputIds.length));
    const gpu = await testGpu();
    const net = await Network.create(gpu, model, { maxBatch: 2, maxSeq: T, training: false, adapter: null });
    const ours = await rowLosses(net, examples, 2, model.config.padId ?? 0);
    net.destroy();
    let worst = 0;
    let worstRef = 0;
    const ref = new ReferenceModel(model.config, model.weights);
    const V = model.config.vocabSize;
    for (const [r, e] of examples.entries()) {
      const theirs = await llamaCppMaskedLoss({ model: file }, e.inputIds, e.lossMask);
      worst = Math.max(worst, Math.abs(ours[r].loss! - theirs));
      // float64 reference on the dequantized weights: mean −log p over the counted tokens.
      const logits = ref.forward(e.inputIds);
      let sum = 0;
      let n = 0;
      for (let t = 1; t < e.inputIds.length; t++) {
        if (!e.lossMask[t]) continue;
        const row = logits.subarray((t - 1) * V, t * V);
        const max = Math.max(...row);
        sum += max + Math.log(row.reduce((z, x) => z + Math.exp(x - max), 0)) - row[e.inputIds[t]];
        n++;
      }
      worstRef = Math.max(worstRef, Math.abs(ours[r].loss! - sum / n));
    }
    // f32 GPU against float64 on the same weights: measured ≤ 1.4e-6 nats on every file, so the
    // gap to llama.cpp above is llama.cpp's activation rounding, not the engine's weights.
    expect(worstRef).toBeLessThan(1e-5);
    if (process.env.TSUGIKI_PRINT) console.log(name, worst, worstRef, ours.map((o) => o.loss));
    expect(worst).toBeLessThan(BOUND(name));
  });
});
