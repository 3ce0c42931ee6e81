/**
 * The exported KV cache and masks behave as transformers.js uses them: decoding one token at a time
 * (present → past_key_values) gives the greedy tokens and logits of recomputing from scratch, and
 * a left-padded batch (attention_mask zeros, position_ids from the mask's cumulative sum) gives the
 * unpadded row's logits for its real tokens.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/model/config.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { onnxDecoderBytes } from '../../src/onnx/export.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { ReferenceModel } from '../reference/model.ts';
import { argmax, loadStories, normRelError, row, session, step } from './harness.ts';
import type * as ort from 'onnxruntime-web';

async function greedyWithCache(s: ort.InferenceSession, cfg: ModelConfig, prompt: number[], n: number): Promise<{ tokens: number[]; last: number[][] }> {
  const V = cfg.vocabSize;
  let r = await step(s, cfg, [prompt]);
  const tokens: number[] = [];
  const last: number[][] = [];
  let logits = row(r.logits, prompt.length - 1, V);
  for (let i = 0; i < n; i++) {
    last.push(logits);
    const next = argmax(logits);
    tokens.push(next);
    if (i === n - 1) break;
    r = await step(s, cfg, [[next]], { past: r.present });
    logits = row(r.logits, 0, V);
  }
  return { tokens, last };
}

describe('ONNX export: KV cache', () => {
  it('stories260K: cached greedy decoding equals recomputing from scratch and the reference', async () => {
    const { model } = loadStories();
    const cfg = model.config;
    const s = await session(onnxDecoderBytes(cfg, model.weights, null));
    const prompt = [1, 403, 407, 261, 378];
    const n = 12;
    const cached = await greedyWithCache(s, cfg, prompt, n);
    const seq = [...prompt];
    for (let i = 0; i < n; i++) {
      const full = await step(s, cfg, [seq]);
      const logits = row(full.logits, seq.length - 1, cfg.vocabSize);
      expect(normRelError(cached.last[i], logits)).toBeLessThan(1e-5); // same graph, cache vs recompute: float32 rounding only
      seq.push(argmax(logits));
    }
    expect(cached.tokens).toEqual(seq.slice(prompt.length));
    expect(cached.tokens).toEqual(new ReferenceModel(cfg, model.weights).greedy(prompt, n));
  });

  for (const kind of ['llama', 'gpt2'] as TinyKind[]) {
    it(`${kind}: a chunk of several tokens after a cached prefix`, async () => {
      const model = loadModelFiles(tinyModelFiles(kind), kind);
      const cfg = model.config;
      const s = await session(onnxDecoderBytes(cfg, model.weights, null));
      const tokens = [5, 8, 13, 21, 34, 55, 89];
      const first = await step(s, cfg, [tokens.slice(0, 3)]);
      const rest = await step(s, cfg, [tokens.slice(3)], { past: first.present });
      expect(rest.present['present.1.key'].dims).toEqual([1, cfg.kvHeads, 7, cfg.headDim]);
      const want = new ReferenceModel(cfg, model.weights).forward(tokens);
      const V = cfg.vocabSize;
      expect(normRelError(rest.logits, want.subarray(3 * V))).toBeLessThan(1e-4); // f32 vs float64
    });
  }
});

describe('ONNX export: padding', () => {
  for (const kind of ['qwen2', 'gpt2'] as TinyKind[]) {
    it(`${kind}: a left-padded row gives the unpadded row's logits, also when decoding on`, async () => {
      const model = loadModelFiles(tinyModelFiles(kind), kind);
      const cfg = model.config;
      const V = cfg.vocabSize;
      const s = await session(onnxDecoderBytes(cfg, model.weights, null));
      const long = [4, 9, 16, 25, 36, 49];
      const short = [7, 11, 13];
      const pad = long.length - short.length;
      const mask = [long.map(() => 1), [...new Array<number>(pad).fill(0), ...short.map(() => 1)]];
      // transformers.js: position_ids = cumsum(mask) − 1, with 1 where the mask is 0.
      const positions = [long.map((_, i) => i), [...new Array<number>(pad).fill(1), ...short.map((_, i) => i)]];
      const batch = await step(s, cfg, [long, [...new Array<number>(pad).fill(1), ...short]], { mask, positions });
      const alone = await step(s, cfg, [short]);
      const paddedRow = batch.logits.subarray((long.length + pad) * V, 2 * long.length * V);
      expect(normRelError(paddedRow, alone.logits)).toBeLessThan(1e-5); // same graph; padding only changes summation order
      const longAlone = await step(s, cfg, [long]);
      expect(normRelError(batch.logits.subarray(0, long.length * V), longAlone.logits)).toBeLessThan(1e-5);

      // One more token for both rows through the cache.
      const next = [argmax(row(batch.logits, long.length - 1, V)), argmax(row(paddedRow, short.length - 1, V))];
      const mask2 = mask.map((m) => [...m, 1]);
      const cont = await step(s, cfg, [[next[0]], [next[1]]], { mask: mask2, positions: [[long.length], [short.length]], past: batch.present });
      const want = new ReferenceModel(cfg, model.weights).forward([...short, next[1]]);
      expect(normRelError(row(cont.logits, 1, V), want.subarray(short.length * V))).toBeLessThan(1e-4); // f32 vs float64
    });
  }
});
