/**
 * Export of a model (with its adapter merged) to the folder transformers.js and onnxruntime-web
 * load for text generation:
 *
 *   onnx/model.onnx | onnx/model_fp16.onnx   the decoder with a KV cache (layers.ts)
 *   onnx/model.onnx_data[_i]                 the weights of models over 2 GiB (external-data.ts)
 *   config.json, generation_config.json      (hf-config.ts)
 *   tokenizer.json, tokenizer_config.json    copied from an HF source, written for a GGUF one
 *
 * f16 stores the weights as float16 (half the download) and casts them to float32 inside the
 * graph, so inputs, outputs, the KV cache and all arithmetic stay float32 in both variants.
 * Browser-safe: bytes in, bytes out.
 */
import { parseGguf } from '../io/gguf.ts';
import type { ModelConfig } from '../model/config.ts';
import type { LoadedModel } from '../model/load-source.ts';
import type { WeightSource } from '../model/weights.ts';
import { GraphBuilder } from './builder.ts';
import { initializerBytes, MAX_INLINE_BYTES, moveToExternalData, type ExternalDataOptions } from './external-data.ts';
import { buildGpt2Graph } from './gpt2.ts';
import { DTYPE_FILES, exportConfigJson, exportGenerationConfig, type ExportDtype } from './hf-config.ts';
import { buildLlamaGraph } from './llama.ts';
import { mergedWeights, type ExportAdapter } from './merged.ts';
import { encodeModel, type ModelMsg } from './proto.ts';
import { spmTokenizerFiles } from './tokenizer-json.ts';

export type { ExportAdapter } from './merged.ts';
export type { ExportDtype } from './hf-config.ts';

export interface OnnxExportOptions {
  /** Weight storage: f32 (default) or f16. */
  dtype?: ExportDtype;
  /**
   * The source model's files, as given to loadModelFiles (names relative to the model folder):
   * config.json, generation_config.json and the tokenizer files are carried over from them, and
   * a GGUF file's vocabulary becomes tokenizer.json.
   */
  files?: Record<string, Uint8Array>;
  /** Weights above this many bytes go to external data files (default: just under 2 GiB). */
  maxInlineBytes?: number;
  /** Side-file layout when the weights go external. */
  externalData?: ExternalDataOptions;
}

function decoderGraph(config: ModelConfig, weights: WeightSource, adapter: ExportAdapter | null, dtype: ExportDtype): ModelMsg {
  if (config.qkNorm || config.sandwichNorms || config.layerWindows || config.embedScale !== undefined) {
    throw new Error(`export: the ONNX export builds Llama, Mistral, Qwen2 and GPT-2 graphs; ${config.hfModelType} (q/k norms${config.sandwichNorms ? ', Gemma 3\'s output norms and sliding layers' : ''}) is not exported to ONNX yet — export the PEFT adapter or the merged safetensors model instead`);
  }
  const g = new GraphBuilder(dtype);
  const ctx = { g, cfg: config, w: mergedWeights(weights, adapter) };
  if (config.arch === 'gpt2') buildGpt2Graph(ctx);
  else buildLlamaGraph(ctx);
  const doc = `${config.hfModelType} decoder with KV cache${adapter ? ', LoRA adapter merged' : ''}; weights ${dtype}, compute float32`;
  return g.model('main_graph', '0.1.0', doc, { model_type: config.hfModelType, weights_dtype: dtype });
}

/** The decoder graph alone, as one ONNX file (weights inside); throws for models over 2 GiB. */
export function onnxDecoderBytes(config: ModelConfig, weights: WeightSource, adapter: ExportAdapter | null, dtype: ExportDtype = 'f32'): Uint8Array {
  const m = decoderGraph(config, weights, adapter, dtype);
  const bytes = initializerBytes(m);
  if (bytes > MAX_INLINE_BYTES) {
    throw new Error(`export: the weights take ${(bytes / 2 ** 30).toFixed(2)} GiB as ${dtype}, more than one ONNX file can hold (2 GiB); use exportOnnx, which writes them to external data files`);
  }
  return encodeModel(m);
}

/**
 * The decoder as files relative to the export folder: `onnx/<name>.onnx` and, when the weights
 * exceed `maxInlineBytes`, its external data chunks. Returns the files and the chunk count.
 */
export function onnxDecoderFiles(
  config: ModelConfig, weights: WeightSource, adapter: ExportAdapter | null, dtype: ExportDtype,
  opts: Pick<OnnxExportOptions, 'maxInlineBytes' | 'externalData'> = {},
): { files: Record<string, Uint8Array>; chunks: number } {
  const path = DTYPE_FILES[dtype].file;
  const m = decoderGraph(config, weights, adapter, dtype);
  if (initializerBytes(m) <= (opts.maxInlineBytes ?? MAX_INLINE_BYTES)) return { files: { [path]: encodeModel(m) }, chunks: 0 };
  const side = moveToExternalData(m, path.slice('onnx/'.length), opts.externalData);
  const files: Record<string, Uint8Array> = { [path]: encodeModel(m) };
  for (const [name, bytes] of Object.entries(side)) files[`onnx/${name}`] = bytes;
  return { files, chunks: Object.keys(side).length };
}

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

function tokenizerFiles(model: LoadedModel, files: Record<string, Uint8Array>): Record<string, Uint8Array> {
  if (model.format === 'gguf') {
    const name = Object.keys(files).find((n) => n.toLowerCase().endsWith('.gguf'));
    if (!name) throw new Error('export: the model is a GGUF file but its bytes were not given (options.files); pass the files it was loaded from');
    const meta = parseGguf(files[name], name).metadata;
    const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(meta, model.config.maxPositions);
    return { 'tokenizer.json': json(tokenizerJson), 'tokenizer_config.json': json(tokenizerConfig) };
  }
  if (!files['tokenizer.json']) throw new Error(`export: ${model.source} has no tokenizer.json among the files given (options.files); pass the files the model was loaded from`);
  const out: Record<string, Uint8Array> = { 'tokenizer.json': files['tokenizer.json'] };
  for (const extra of ['tokenizer_config.json', 'special_tokens_map.json']) if (files[extra]) out[extra] = files[extra];
  return out;
}

/**
 * The exported folder, file name → bytes. `adapter` (or null) is merged into the weights first.
 * `opts.files` are the source files (needed for the tokenizer and the HF config).
 */
export function exportOnnx(model: LoadedModel, adapter: ExportAdapter | null, opts: OnnxExportOptions = {}): Record<string, Uint8Array> {
  const dtype = opts.dtype ?? 'f32';
  const files = opts.files ?? {};
  const decoder = onnxDecoderFiles(model.config, model.weights, adapter, dtype, opts);
  return {
    ...decoder.files,
    'config.json': json(exportConfigJson(model.config, files, dtype, decoder.chunks)),
    'generation_config.json': json(exportGenerationConfig(model.config, files)),
    ...tokenizerFiles(model, files),
  };
}
