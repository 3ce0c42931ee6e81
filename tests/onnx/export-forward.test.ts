/**
 * Exported decoders run in onnxruntime-web (WASM) give the CPU float64 reference's logits, with a
 * random LoRA adapter merged: the tiny checkpoints of every architecture (Llama with GQA and llama3
 * RoPE scaling, Mistral with MQA, Qwen2 with q/k/v bias and tied embeddings, GPT-2) and the real
 * stories260K GGUF.
 */
import { describe, expect, it } from 'vitest';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { onnxDecoderBytes } from '../../src/onnx/export.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { ReferenceModel } from '../reference/model.ts';
import { loadStories, normRelError, randomAdapter, session, step } from './harness.ts';

const LLAMA_TARGETS = ['q_proj', 'v_proj', 'down_proj'];
const PROMPT = [3, 17, 42, 5, 9, 60, 2, 88];

describe('ONNX export vs the CPU reference', () => {
  for (const kind of ['llama', 'mistral', 'qwen2', 'gpt2'] as TinyKind[]) {
    it(`${kind}: logits with a merged r=4 adapter`, async () => {
      const model = loadModelFiles(tinyModelFiles(kind), kind);
      const targets = kind === 'gpt2' ? ['c_attn', 'mlp.c_proj'] : LLAMA_TARGETS;
      const { adapter, ref } = randomAdapter(model.config, targets, 7);
      const s = await session(onnxDecoderBytes(model.config, model.weights, adapter));
      const got = (await step(s, model.config, [PROMPT])).logits;
      const want = new ReferenceModel(model.config, model.weights).forward(PROMPT, { lora: ref });
      const err = normRelError(got, want);
      expect(err).toBeLessThan(1e-4); // f32 graph vs float64 reference; measured ≈ 1e-6
      // The adapter matters: without it the logits are far from these.
      const base = new ReferenceModel(model.config, model.weights).forward(PROMPT);
      expect(normRelError(base, want)).toBeGreaterThan(1e-2);
    });
  }

  it('mistral: a sliding window shorter than the prompt masks the far keys', async () => {
    const model = loadModelFiles(tinyModelFiles('mistral', { config: { sliding_window: 3 } }), 'mistral-w3');
    expect(model.config.slidingWindow).toBe(3);
    const s = await session(onnxDecoderBytes(model.config, model.weights, null));
    const got = (await step(s, model.config, [PROMPT])).logits;
    const want = new ReferenceModel(model.config, model.weights).forward(PROMPT);
    expect(normRelError(got, want)).toBeLessThan(1e-4); // as above
  });

  it('Qwen3 and Gemma 3 are refused with what to export instead', () => {
    for (const kind of ['qwen3', 'gemma3'] as TinyKind[]) {
      const model = loadModelFiles(tinyModelFiles(kind), kind);
      expect(() => onnxDecoderBytes(model.config, model.weights, null)).toThrow(/not exported to ONNX yet — export the PEFT adapter or the merged safetensors model/);
    }
  });

  it('stories260K (GGUF) with an adapter on q_proj, v_proj, down_proj', async () => {
    const { model } = loadStories();
    const { adapter, ref } = randomAdapter(model.config, LLAMA_TARGETS, 11);
    const s = await session(onnxDecoderBytes(model.config, model.weights, adapter));
    const tokens = [1, 403, 407, 261, 378, 30, 270, 499, 40];
    const got = (await step(s, model.config, [tokens])).logits;
    const want = new ReferenceModel(model.config, model.weights).forward(tokens, { lora: ref });
    expect(normRelError(got, want)).toBeLessThan(1e-4); // f32 vs float64; measured ≈ 1e-6
  });
});
