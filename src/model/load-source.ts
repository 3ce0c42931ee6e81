/**
 * Loads a model from its files, in memory (browser and Node alike): a single `.gguf` file, or a
 * Hugging Face folder given as `{ 'config.json': bytes, 'model.safetensors': bytes,
 * 'tokenizer.json': bytes, 'tokenizer_config.json': bytes, … }` (sharded checkpoints with
 * `model.safetensors.index.json` too). Checks every tensor the config implies is present with
 * the right shape, so later stages can trust the weights.
 */
import { FormatError } from '../io/errors.ts';
import { parseGguf } from '../io/gguf.ts';
import { tokenizerFromGguf, tokenizerFromHf, type Tokenizer } from '../data/tokenizer.ts';
import { configFromGguf, configFromHf, expectedTensors, type ModelConfig } from './config.ts';
import { weightsFromGguf } from './gguf-llama.ts';
import type { BaseQuantReport } from './quantize-base.ts';
import { weightsFromSafetensors, type WeightSource } from './weights.ts';

export interface LoadedModel {
  config: ModelConfig;
  weights: WeightSource;
  tokenizer: Tokenizer;
  format: 'gguf' | 'safetensors';
  /** The name the model was loaded from (file or folder), for messages. */
  source: string;
  /** Set when the weights were quantized at load (a 4-bit base, src/model/quantize-base.ts). */
  baseQuant?: BaseQuantReport;
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new FormatError(where, `is not valid JSON (${(e as Error).message}); download it again`);
  }
}

/** Throws, naming the tensor and its file, when the weights do not match the config. */
export function checkWeights(config: ModelConfig, weights: WeightSource): void {
  for (const [name, shape] of expectedTensors(config)) {
    if (!weights.has(name)) {
      const hint = name === 'lm_head.weight' ? ' (config.json says the embeddings are not tied, so lm_head.weight must be stored)' : '';
      throw new FormatError(weights.source, `tensor '${name}' is missing from the checkpoint${hint}; the weights do not match the config`);
    }
    const info = weights.info(name);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      const where = info.file === weights.source ? weights.source : `${weights.source}/${info.file}`;
      throw new FormatError(where,
        `tensor '${name}' has shape [${info.shape.join(', ')}] but the config implies [${shape.join(', ')}] (hidden ${config.hidden}, heads ${config.heads}/${config.kvHeads}, head dim ${config.headDim}, MLP ${config.intermediate}, vocab ${config.vocabSize}); the config and the weights belong to different models`);
    }
  }
}

function loadGguf(bytes: Uint8Array, source: string): LoadedModel {
  const file = parseGguf(bytes, source);
  const config = configFromGguf(file);
  const weights = weightsFromGguf(file, bytes, config);
  checkWeights(config, weights);
  const tokenizer = tokenizerFromGguf(file.metadata);
  return { config, weights, tokenizer, format: 'gguf', source };
}

function loadHfFolder(files: Record<string, Uint8Array>, source: string): LoadedModel {
  if (!files['config.json']) {
    throw new FormatError(source, 'has no config.json; a Hugging Face model folder needs config.json, model.safetensors (or shards with their index) and tokenizer.json');
  }
  const config = configFromHf(parseJson(files['config.json'], `${source}/config.json`), `${source}/config.json`);
  if (!files['tokenizer.json']) {
    throw new FormatError(source, 'has no tokenizer.json; tsugiki needs the fast-tokenizer file (vocab.json/merges.txt or tokenizer.model alone are not read) — download tokenizer.json from the model\'s page');
  }
  const tokenizerJson = parseJson(files['tokenizer.json'], `${source}/tokenizer.json`) as object;
  const tokenizerConfig = files['tokenizer_config.json'] ? (parseJson(files['tokenizer_config.json'], `${source}/tokenizer_config.json`) as object) : {};
  const tokenizer = tokenizerFromHf(tokenizerJson, tokenizerConfig);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new FormatError(source, `tokenizer.json has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}; they belong to different models`);
  }
  const weights = weightsFromSafetensors(files, config.arch, source);
  checkWeights(config, weights);
  return { config, weights, tokenizer, format: 'safetensors', source };
}

/** Whether bytes start with the GGUF magic (an ollama blob `sha256-…` is a GGUF file without the extension). */
export function isGgufBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46;
}

/** The files with a lone GGUF file that lacks the `.gguf` extension (ollama's blobs) named `<name>.gguf`. */
export function withGgufName(files: Record<string, Uint8Array>): Record<string, Uint8Array> {
  const names = Object.keys(files);
  if (names.length !== 1 || names[0].toLowerCase().endsWith('.gguf') || !isGgufBytes(files[names[0]])) return files;
  return { [`${names[0]}.gguf`]: files[names[0]] };
}

/**
 * A model from its files. `files` maps names (relative to the model folder) to bytes; a single
 * entry ending in `.gguf` is read as a GGUF model.
 */
export function loadModelFiles(given: Record<string, Uint8Array>, sourceName: string): LoadedModel {
  const files = withGgufName(given);
  const ggufs = Object.keys(files).filter((n) => n.toLowerCase().endsWith('.gguf'));
  if (ggufs.length > 1) throw new FormatError(sourceName, `holds ${ggufs.length} .gguf files (${ggufs.join(', ')}); choose one`);
  if (ggufs.length === 1) return loadGguf(files[ggufs[0]], ggufs[0]);
  return loadHfFolder(files, sourceName);
}
