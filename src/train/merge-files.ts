/**
 * The files of a merged model folder (W' = W + s·B·A in every adapted module, src/lora/merge.ts):
 *
 *   HF source:   model.safetensors with the checkpoint's own tensor names, dtypes and layouts
 *                (GPT-2 Conv1D stays [in, out]), its config.json, and the tokenizer and
 *                generation files copied when present.
 *   GGUF source: model.safetensors in Hugging Face names and layout (the loader already renamed
 *                blk.N.* and un-permuted Q/K), dtypes kept (f32/f16/bf16; quantized tensors are
 *                dequantized to f32, merged, and written as f32); config.json derived from
 *                the GGUF config as a LlamaForCausalLM; tokenizer.json + tokenizer_config.json
 *                written from the GGUF SentencePiece vocabulary (src/onnx/tokenizer-json.ts).
 *
 * Either folder loads back with loadModelFromPath (and transformers' from_pretrained).
 */
import { parseGguf } from '../io/gguf.ts';
import { parseSafetensors, tensorBytes, writeSafetensors, type SafeDtype, type SafeTensorInput } from '../io/safetensors.ts';
import { parseShardIndex } from '../io/safetensors-index.ts';
import { mergedCheckpoint, type MergeAdapter } from '../lora/merge.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { exportConfigJson } from '../onnx/hf-config.ts';
import { spmTokenizerFiles } from '../onnx/tokenizer-json.ts';

/** Files of a Hugging Face model folder that a merged folder keeps as they are. */
export const COPIED_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja'];

const SAFE: Record<string, SafeDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };
const TORCH: Record<SafeDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

function typed(raw: Uint8Array, dtype: SafeDtype): Float32Array | Uint16Array {
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return dtype === 'F32' ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer);
}

/** The tensors of an HF folder exactly as its safetensors files store them. */
export function checkpointTensors(files: Record<string, Uint8Array>, source: string): SafeTensorInput[] {
  const indexName = 'model.safetensors.index.json';
  const names = files[indexName]
    ? parseShardIndex(new TextDecoder().decode(files[indexName]), `${source}/${indexName}`).shards
    : files['model.safetensors'] ? ['model.safetensors'] : Object.keys(files).filter((n) => n.endsWith('.safetensors')).sort();
  const out: SafeTensorInput[] = [];
  for (const name of names) {
    const bytes = files[name];
    if (!bytes) throw new Error(`${source}: the weights file ${name} was not read; give the model folder with all its safetensors files`);
    const file = parseSafetensors(bytes, `${source}/${name}`);
    for (const t of file.tensors) out.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], data: typed(tensorBytes(file, bytes, t.name), t.dtype) });
  }
  return out;
}

/** The tensors of a GGUF model in HF names and layout, in their source dtype (quantized ones dequantized to f32). */
export function ggufTensors(model: LoadedModel): SafeTensorInput[] {
  return model.weights.names().map((name) => {
    const info = model.weights.info(name);
    const dtype = SAFE[info.dtype];
    if (!dtype) return { name, dtype: 'F32', shape: info.shape, data: model.weights.toF32(name) };
    return { name, dtype, shape: info.shape, data: typed(model.weights.bytes(name), dtype) };
  });
}

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/** File name → bytes of the merged model folder. `files` are the source files (see ModelArg). */
export function mergedModelFiles(model: LoadedModel, files: Record<string, Uint8Array>, adapter: MergeAdapter): Record<string, Uint8Array> {
  if (model.format === 'safetensors') {
    if (!files['config.json']) throw new Error(`${model.source}: its config.json was not read; give the model folder`);
    const out: Record<string, Uint8Array> = {
      'model.safetensors': writeSafetensors(mergedCheckpoint(checkpointTensors(files, model.source), adapter), { format: 'pt' }),
      'config.json': files['config.json'],
    };
    for (const name of COPIED_FILES) if (files[name]) out[name] = files[name];
    return out;
  }
  const ggufName = Object.keys(files).find((n) => n.toLowerCase().endsWith('.gguf'));
  if (!ggufName) throw new Error(`${model.source}: the GGUF bytes were not given; pass the files the model was loaded from`);
  const tensors = mergedCheckpoint(ggufTensors(model), adapter);
  const config = exportConfigJson(model.config, {}, 'f32');
  delete config['transformers.js_config'];
  config.torch_dtype = TORCH[tensors.find((t) => t.name.endsWith('q_proj.weight'))?.dtype ?? 'F32'];
  const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(parseGguf(files[ggufName], ggufName).metadata as Record<string, unknown>, model.config.maxPositions);
  return {
    'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
    'config.json': json(config),
    'tokenizer.json': json(tokenizerJson),
    'tokenizer_config.json': json(tokenizerConfig),
  };
}
