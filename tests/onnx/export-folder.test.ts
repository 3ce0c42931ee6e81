/**
 * The exported folder: the files transformers.js looks for, a graph of standard opset-17 operators
 * only, configs that name the dtype, a GGUF SentencePiece vocabulary written as a tokenizer.json
 * that @huggingface/tokenizers encodes exactly like our GGUF tokenizer, and the f16 variant.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { loadModelFiles } from '../../src/model/load-source.ts';
import * as ort from 'onnxruntime-web';
import { exportOnnx, onnxDecoderBytes } from '../../src/onnx/export.ts';
import { decodeModel, OPSET } from '../../src/onnx/proto.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';
import { ReferenceModel } from '../reference/model.ts';
import { loadStories, normRelError, randomAdapter, session, step } from './harness.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const parse = (b: Uint8Array) => JSON.parse(text(b)) as Record<string, unknown>;

/** Standard ONNX operators the graphs may use (no contrib ops). */
const ALLOWED_OPS = new Set([
  'Add', 'And', 'Cast', 'Concat', 'Cos', 'Div', 'Gather', 'Identity', 'LayerNormalization', 'Less', 'LessOrEqual', 'MatMul',
  'Mul', 'Neg', 'Range', 'ReduceMean', 'Reshape', 'Shape', 'Sigmoid', 'Sin', 'Slice', 'Softmax', 'Sqrt', 'Sub', 'Tanh',
  'Transpose', 'Unsqueeze', 'Where',
]);

function graphOf(bytes: Uint8Array) {
  const m = decodeModel(bytes) as { opsetImport: { domain?: string; version: number }[]; graph: { node: { opType: string; domain?: string }[]; input: { name: string }[]; output: { name: string }[] } };
  return m;
}

describe('ONNX export: the folder', () => {
  it('stories260K: files, opset-17 standard graph, config from GGUF, tokenizer.json like the GGUF tokenizer', () => {
    const { model, files } = loadStories();
    const out = exportOnnx(model, null, { files });
    expect(Object.keys(out).sort()).toEqual(['config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);

    const m = graphOf(out['onnx/model.onnx']);
    expect(m.opsetImport).toEqual([{ domain: '', version: OPSET }]);
    expect(OPSET).toBeGreaterThanOrEqual(17);
    for (const n of m.graph.node) {
      expect(n.domain ?? '').toBe('');
      expect(ALLOWED_OPS.has(n.opType), n.opType).toBe(true);
    }
    const L = model.config.layers;
    expect(m.graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids',
      ...Array.from({ length: L }, (_, l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`]).flat()]);
    expect(m.graph.output.map((o) => o.name)).toEqual([
      ...Array.from({ length: L }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat(), 'logits']);

    const config = parse(out['config.json']);
    expect(config).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 512, hidden_size: 64, intermediate_size: 172,
      num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 8, bos_token_id: 1, eos_token_id: 2,
      tie_word_embeddings: model.config.tieWordEmbeddings, 'transformers.js_config': { dtype: 'fp32', kv_cache_dtype: 'float32' },
    });
    expect(parse(out['generation_config.json'])).toMatchObject({ bos_token_id: 1, eos_token_id: 2 });

    const hf = new HfTokenizer(parse(out['tokenizer.json']), parse(out['tokenizer_config.json']));
    expect(hf.encode('Once upon a time').ids).toEqual([1, 403, 407, 261, 378]);
    expect(model.tokenizer.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    // Real rows: SMS texts (emoji, digits, punctuation) and banking queries; byte fallback included.
    const sms = readFileSync(new URL('../../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url), 'utf8').split('\n').slice(0, 250).map((l) => l.split('\t')[1]);
    const bank = readFileSync(new URL('../../../shared/data/datasets/banking77/train.csv', import.meta.url), 'utf8').split(/\r?\n/).slice(1, 151);
    const rows = [...sms, ...bank, 'naïve café 日本語 🙂', '  two  spaces ', 'end </s> special'];
    let same = 0;
    for (const r of rows) if (hf.encode(r).ids.join() === model.tokenizer.encode(r).join()) same++;
    expect(same).toBe(rows.length);
    expect(hf.decode(hf.encode('Once upon a time').ids, { skip_special_tokens: true })).toBe('Once upon a time');
  });

  it('HF folder: config.json and tokenizer files carried over, dtype named for transformers.js', () => {
    const files = tinyModelFiles('qwen2');
    const model = loadModelFiles(files, 'qwen2');
    const out = exportOnnx(model, null, { files, dtype: 'f16' });
    expect(Object.keys(out).sort()).toEqual(['config.json', 'generation_config.json', 'onnx/model_fp16.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(out['tokenizer.json']).toBe(files['tokenizer.json']);
    const config = parse(out['config.json']);
    expect(config).toMatchObject({ ...parse(files['config.json']), torch_dtype: 'float16', 'transformers.js_config': { dtype: 'fp16' } });
  });

  it('f16 weights: half the file, float32 inputs and outputs, logits close to the reference', async () => {
    const { model, files } = loadStories();
    const { adapter, ref } = randomAdapter(model.config, ['q_proj', 'v_proj', 'down_proj'], 3);
    const f32 = exportOnnx(model, adapter, { files })['onnx/model.onnx'];
    const f16 = exportOnnx(model, adapter, { files, dtype: 'f16' })['onnx/model_fp16.onnx'];
    expect(f16.length / f32.length).toBeLessThan(0.55);
    const tokens = [1, 403, 407, 261, 378, 30];
    const s = await session(f16);
    const got = (await step(s, model.config, [tokens])).logits;
    const want = new ReferenceModel(model.config, model.weights).forward(tokens, { lora: ref });
    expect(normRelError(got, want)).toBeLessThan(5e-3); // weights rounded to f16 (2⁻¹¹ relative each); measured ≈ 6e-4 (tiny random models: up to 4e-3)
  });

  it('weights in external data chunks, as transformers.js names them, run to the same logits', async () => {
    const { model, files } = loadStories();
    const out = exportOnnx(model, null, { files, maxInlineBytes: 0, externalData: { chunkBytes: 400_000 } });
    const chunks = Object.keys(out).filter((n) => n.startsWith('onnx/model.onnx_data')).sort();
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]).toBe('onnx/model.onnx_data');
    expect(chunks[1]).toBe('onnx/model.onnx_data_1');
    expect(out['onnx/model.onnx'].length).toBeLessThan(100_000);
    expect(parse(out['config.json'])['transformers.js_config']).toMatchObject({ use_external_data_format: chunks.length });
    const externalData = chunks.map((n) => ({ path: n.slice('onnx/'.length), data: out[n] }));
    const split = await ort.InferenceSession.create(out['onnx/model.onnx'], { executionProviders: ['wasm'], externalData });
    const whole = await session(onnxDecoderBytes(model.config, model.weights, null));
    const tokens = [1, 403, 407, 261, 378];
    const a = (await step(split, model.config, [tokens])).logits;
    const b = (await step(whole, model.config, [tokens])).logits;
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true); // same weights, same graph
  });
});
