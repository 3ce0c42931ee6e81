import type { LoadedModel } from '../model/load-source.ts';
import { loraTargets, parameterCount } from '../model/config.ts';
import { weightBytesOf, weightPrecision } from '../model/weights.ts';
import type { ModelSummary, TokenizerSource } from './protocol.ts';

/** The GGUF metadata keys the tokenizer reads (the rest of the metadata stays in the worker). */
function ggufTokenizerMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (k.startsWith('tokenizer.') || k.startsWith('general.')) out[k] = v;
  return out;
}

/** The model as the page sees it: shape, sizes and the tokenizer's source files. */
export function summarizeModel(model: LoadedModel, name: string, fileBytes: number, tokenizer: TokenizerSource): ModelSummary {
  let weightBytes = 0;
  const dtypes = new Map<string, number>();
  for (const n of model.weights.names()) {
    const info = model.weights.info(n);
    const bytes = weightBytesOf(info.shape, info.dtype);
    weightBytes += bytes;
    dtypes.set(info.dtype, (dtypes.get(info.dtype) ?? 0) + bytes);
  }
  const dtype = [...dtypes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'f32';
  return {
    name,
    format: model.format,
    config: model.config,
    params: parameterCount(model.config),
    dtype,
    precision: weightPrecision(model.weights).summary,
    baseQuant: model.baseQuant ? { bytesBefore: model.baseQuant.bytesBefore, bytesAfter: model.baseQuant.bytesAfter, types: model.baseQuant.types } : null,
    weightBytes,
    fileBytes,
    loraTargets: loraTargets(model.config),
    tokenizer,
  };
}

/** What the page needs to rebuild the tokenizer from the same files. */
export function tokenizerSourceOf(files: Record<string, Uint8Array>, ggufMetadata: Record<string, unknown> | null): TokenizerSource {
  if (ggufMetadata) return { kind: 'gguf', metadata: ggufTokenizerMetadata(ggufMetadata) };
  const json = (name: string): object => (files[name] ? (JSON.parse(new TextDecoder().decode(files[name])) as object) : {});
  return { kind: 'hf', tokenizerJson: json('tokenizer.json'), tokenizerConfig: json('tokenizer_config.json') };
}
