/**
 * Qwen3 and Gemma 3 checked by llama.cpp: random tiny Hugging Face checkpoints are written as GGUF
 * (src/model/hf-to-gguf.ts), read back by tsugiki's GGUF loader and run by llama.cpp. The same
 * next-token probabilities from llama.cpp, the engine on the HF checkpoint, the engine on the GGUF
 * file and the float64 reference check the HF loader, the GGUF writer and the GGUF loader at once.
 * Gemma's sequence is longer than its window, so llama.cpp's sliding layers (every layer but each
 * sixth, local RoPE base 10000) are exercised; a LoRA adapter on every linear module is checked
 * through llama.cpp's adapter loading too.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/io/gguf.ts';
import { f16ToF32, f32ToF16 } from '../../src/io/halfs.ts';
import { configFromHf } from '../../src/model/config.ts';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import { exportConfigJson } from '../../src/onnx/hf-config.ts';
import { Network } from '../../src/model/network.ts';
import { adapterGguf, mergedGguf } from '../../src/train/gguf-files.ts';
import { testGpu } from '../helpers/gpu.ts';
import { disposeLlamaCpp, llamaCppNextTokenProbs } from '../helpers/llama-cpp.ts';
import { maxRelError } from '../helpers/numeric.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { ReferenceModel } from '../reference/model.ts';
import { layoutFor, randomParams, refLora } from './network-lora-helpers.ts';

afterAll(disposeLlamaCpp);

const OUT = mkdtempSync(join(tmpdir(), 'tsugiki-families-'));
const IDS = [5, 17, 42, 3, 88, 60, 9, 33, 71, 12, 50, 26, 94, 7];
const RANK = 4;
const SCALE = 2;

const f16 = (x: number) => f16ToF32(f32ToF16(Float32Array.of(x)))[0];

/**
 * The reference with ggml's CPU GELU (ggml_vec_gelu_f32 under GGML_GELU_FP16): the input rounded
 * to f16 and looked up in an f16 table of gelu values (0 below −10, x above 10). llama.cpp's GeGLU
 * therefore differs from PyTorch's by ~1e-3 relative per activation.
 */
class GgmlGeluReference extends ReferenceModel {
  override gelu(u: number): number {
    if (u <= -10) return 0;
    if (u >= 10) return u;
    return f16(super.gelu(f16(u)));
  }
}

/** Softmax of each row of logits [T, V]. */
function softmaxRows(logits: ArrayLike<number>, T: number, V: number): Float64Array[] {
  return Array.from({ length: T }, (_, t) => {
    const row = Array.from({ length: V }, (_, v) => logits[t * V + v]);
    const max = Math.max(...row);
    const e = row.map((x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return Float64Array.from(e, (x) => x / sum);
  });
}

/** Largest |a − b| over all positions and tokens. */
function probError(a: Float64Array[], b: Float64Array[]): number {
  let worst = 0;
  a.forEach((row, t) => row.forEach((p, v) => (worst = Math.max(worst, Math.abs(p - (b[t][v] ?? 0))))));
  return worst;
}

async function engineProbs(model: LoadedModel, adapter: { params: Float64Array } | null): Promise<Float64Array[]> {
  const T = IDS.length;
  const gpu = await testGpu();
  const layout = adapter ? layoutFor(model.config, RANK) : null;
  const net = await Network.create(gpu, model, { maxBatch: 1, maxSeq: T, training: false, adapter: layout ? { layout, scale: SCALE, dropout: 0 } : null });
  if (adapter) net.setAdapterParams(Float32Array.from(adapter.params));
  const logits = await net.logits({ B: 1, T, inputIds: Int32Array.from(IDS), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] });
  net.destroy();
  return softmaxRows(logits, T, model.config.vocabSize);
}

const CASES: [TinyKind, Record<string, unknown>][] = [
  ['qwen3', {}],
  // Six layers with llama.cpp's fixed pattern (layer 5 full), a window of 4 over 14 tokens, and
  // query_pre_attn_scalar = head_dim, which is what llama.cpp's gemma3 scales by.
  ['gemma3', { num_hidden_layers: 6, layer_types: null, sliding_window: 4, query_pre_attn_scalar: 16 }],
];

describe('llama.cpp runs the GGUF files tsugiki writes from Qwen3 and Gemma 3 checkpoints', () => {
  for (const [kind, config] of CASES) {
    it(`${kind}: HF loader, GGUF writer and GGUF loader agree with llama.cpp (base and LoRA)`, async () => {
      const files = tinyModelFiles(kind, { config, seed: 77 });
      const hf = loadModelFiles(files, `tiny-${kind}`);
      const bytes = mergedGguf(hf, files, null, { fileType: 'F32' });
      const file = join(OUT, `${kind}.gguf`);
      writeFileSync(file, bytes);
      expect(parseGguf(bytes, file).metadata['general.architecture']).toBe(kind);

      // The GGUF file loads back to the HF model: same config where it matters, same weights.
      const gg = loadModelFiles({ [`${kind}.gguf`]: bytes }, `${kind}.gguf`);
      const { hfModelType, layerWindows, qkNorm, normPlusOne, sandwichNorms, headDim, tieWordEmbeddings } = hf.config;
      expect(gg.config).toMatchObject({ hfModelType, qkNorm, headDim, tieWordEmbeddings, ...(layerWindows ? { layerWindows, normPlusOne, sandwichNorms } : {}) });
      // Merging or exporting the GGUF model writes a config.json that reads back to the same model.
      const written = configFromHf(exportConfigJson(gg.config, {}, 'f32'));
      expect(written).toMatchObject({ ...gg.config, torchDtype: 'float32' });
      for (const name of hf.weights.names()) {
        // Gemma's norms go through 1 + w in f32 and back: within an ulp of 1.
        expect(maxRelError(gg.weights.toF32(name), hf.weights.toF32(name), 1), name).toBeLessThan(1.2e-7);
      }

      const theirs = await llamaCppNextTokenProbs({ model: file }, IDS);
      const ref = new ReferenceModel(hf.config, hf.weights);
      // What llama.cpp computes, GELU included (the same as ref for Qwen3's SwiGLU).
      const ggmlRef = new GgmlGeluReference(hf.config, hf.weights);
      const refProbs = softmaxRows(ref.forward(IDS), IDS.length, hf.config.vocabSize);
      const fromHf = await engineProbs(hf, null);
      const fromGguf = await engineProbs(gg, null);
      const ggmlProbs = softmaxRows(ggmlRef.forward(IDS), IDS.length, hf.config.vocabSize);
      const errors = { engineHfVsRef: probError(fromHf, refProbs), engineGgufVsRef: probError(fromGguf, refProbs) };
      const judged = { llamaCppVsGgmlRef: probError(theirs, ggmlProbs) };
      // The engine computes PyTorch's GELU in f32; llama.cpp's f16 table is the one difference.
      const geluGap = { engineVsLlamaCpp: probError(fromHf, theirs) };

      // A LoRA adapter on every linear module: llama.cpp's adapter file against the engine.
      const layout = layoutFor(hf.config, RANK);
      const params = randomParams(layout, 5, 0.3);
      const adapterFile = join(OUT, `${kind}-lora.gguf`);
      writeFileSync(adapterFile, adapterGguf(hf.config, layout, Float32Array.from(params), { dtype: 'F32', scale: SCALE }));
      const theirsLora = await llamaCppNextTokenProbs({ model: file, adapters: [{ file: adapterFile }] }, IDS);
      const oursLora = await engineProbs(hf, { params });
      const lora = refLora(layout, params, SCALE);
      const refLoraProbs = softmaxRows(ref.forward(IDS, { lora }), IDS.length, hf.config.vocabSize);
      const ggmlLoraProbs = softmaxRows(ggmlRef.forward(IDS, { lora }), IDS.length, hf.config.vocabSize);
      Object.assign(errors, { loraEngineVsRef: probError(oursLora, refLoraProbs) });
      Object.assign(judged, { loraLlamaCppVsGgmlRef: probError(theirsLora, ggmlLoraProbs) });
      Object.assign(geluGap, { loraEngineVsLlamaCpp: probError(oursLora, theirsLora) });
      if (process.env.TSUGIKI_REPORT) console.log(kind, errors, judged, geluGap);
      // f32 everywhere (llama.cpp with f32 attention and KV cache): only summation order differs.
      for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(1e-5);
      // Against the reference with ggml's GELU: Qwen3 has none (measured 2e-7); for Gemma 3 an input
      // that sits on an f16 rounding boundary can round the other way after f32 sums in another
      // order, a 1e-3 jump in one activation (measured 2e-7 base, 2e-5 with the adapter).
      for (const [what, e] of Object.entries(judged)) expect(e, what).toBeLessThan(kind === 'qwen3' ? 1e-5 : 1e-4);
      // Qwen3: nothing else differs. Gemma 3: the f16 GELU table, ~1e-4 in probability.
      for (const [what, e] of Object.entries(geluGap)) expect(e, what).toBeLessThan(kind === 'qwen3' ? 1e-5 : 1e-3);
      // The adapter changes the model: the agreement is not the base model's twice.
      expect(probError(theirsLora, theirs)).toBeGreaterThan(1e-3);
    });
  }

  it('gemma3 in Q8_0 (quantized embeddings and gate/up): the engine runs the blocks as stored', async () => {
    // hidden 32: rows of whole Q8_0 blocks (down_proj's rows of 40 fall back to F16, as llama-quantize does).
    const files = tinyModelFiles('gemma3', { config: { ...CASES[1][1], hidden_size: 32 }, seed: 78 });
    const hf = loadModelFiles(files, 'tiny-gemma3-32');
    const bytes = mergedGguf(hf, files, null, { fileType: 'Q8_0' });
    const file = join(OUT, 'gemma3-q8_0.gguf');
    writeFileSync(file, bytes);
    const types = new Set(parseGguf(bytes, file).tensors.map((t) => t.typeName));
    expect(types.has('Q8_0')).toBe(true);
    const gg = loadModelFiles({ 'gemma3-q8_0.gguf': bytes }, 'gemma3-q8_0.gguf');
    const ours = await engineProbs(gg, null);
    // The float64 reference on the dequantized weights: the same model exactly.
    const ref = softmaxRows(new ReferenceModel(gg.config, gg.weights).forward(IDS), IDS.length, gg.config.vocabSize);
    const theirs = await llamaCppNextTokenProbs({ model: file }, IDS);
    const errors = { engineVsRef: probError(ours, ref), engineVsLlamaCpp: probError(ours, theirs) };
    if (process.env.TSUGIKI_REPORT) console.log('gemma3 Q8_0', errors);
    expect(errors.engineVsRef).toBeLessThan(1e-5);
    // llama.cpp also rounds activations to Q8 for its dot products (and reads GELU from an f16 table).
    expect(errors.engineVsLlamaCpp).toBeLessThan(2e-2);
  });

  it('gemma3: a layout llama.cpp would run differently is refused with the reason', () => {
    const files = tinyModelFiles('gemma3', { seed: 3 });
    const hf = loadModelFiles(files, 'tiny-gemma3');
    expect(() => mergedGguf(hf, files, null, { fileType: 'F32' })).toThrow(/each sixth.*query_pre_attn_scalar is not head_dim/);
  });
});
