/**
 * transformers.js itself (its Node build, on onnxruntime-node) loads the exported folder, tokenizes
 * with the exported tokenizer.json and generates greedily the same tokens as tsugiki's engine with
 * the adapter applied as LoRA branches on the GPU.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { loraScale } from '../../src/lora/config.ts';
import { generate } from '../../src/model/generate.ts';
import { Network } from '../../src/model/network.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { testGpu } from '../helpers/gpu.ts';
import { loadStories, randomAdapter } from './harness.ts';

const NEW_TOKENS = 24;

describe('transformers.js runs the exported folder', () => {
  it('stories260K with a merged adapter: same prompt ids and the same greedy tokens as the engine', async () => {
    const { model, files } = loadStories();
    const { adapter } = randomAdapter(model.config, ['q_proj', 'v_proj', 'down_proj'], 7);
    const root = mkdtempSync(join(tmpdir(), 'tsugiki-tjs-'));
    for (const [name, bytes] of Object.entries(exportOnnx(model, adapter, { dtype: 'f32', files }))) {
      mkdirSync(dirname(join(root, 'stories', name)), { recursive: true });
      writeFileSync(join(root, 'stories', name), bytes);
    }
    env.localModelPath = `${root}/`;
    env.allowRemoteModels = false;
    const tokenizer = await AutoTokenizer.from_pretrained('stories');
    const lm = await AutoModelForCausalLM.from_pretrained('stories', { dtype: 'fp32' });
    const inputs = tokenizer('Once upon a time');
    const promptIds = (inputs.input_ids.tolist()[0] as bigint[]).map(Number);
    expect(promptIds).toEqual(model.tokenizer.encode('Once upon a time'));
    const out = (await lm.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false })) as { tolist(): bigint[][] };
    const fromTransformersJs = out.tolist()[0].map(Number).slice(promptIds.length);

    const gpu = await testGpu();
    const net = await Network.create(gpu, model, {
      maxBatch: 1, maxSeq: promptIds.length + NEW_TOKENS, training: false,
      adapter: { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 },
    });
    net.setAdapterParams(adapter.params);
    const fromEngine = await generate(net, promptIds, { maxNewTokens: NEW_TOKENS, temperature: 0, seed: 0, stopIds: [] });
    net.destroy();
    // Greedy decoding is exact token for token: the logits agree to ~1e-6 (export-gpu.test.ts).
    expect(fromTransformersJs).toEqual(fromEngine.slice(0, fromTransformersJs.length));
    expect(fromTransformersJs.length).toBe(NEW_TOKENS);
  });
});
