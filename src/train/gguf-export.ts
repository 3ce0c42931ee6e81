/**
 * What the GGUF exports write, shared by `tsugiki export-gguf` and the studio's Export step so
 * both give the same bytes:
 *
 *   adapter:  NAME-lora-rR-f32.gguf (or -f16)                     llama.cpp --lora, ollama ADAPTER
 *   merged:   NAME-merged-Q4_K_M.gguf (F16, Q8_0, …) + Modelfile   llama.cpp, LM Studio, `ollama create`
 */
import { loraScale, type AdapterConfig } from '../lora/config.ts';
import type { AdapterLayout } from '../lora/layout.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { adapterGguf, mergedGguf, type GgufFileType } from './gguf-files.ts';
import { modelfileText, ollamaCreateLine, ollamaName, ollamaPromptFormat } from './modelfile.ts';

export interface ExportAdapter {
  layout: AdapterLayout;
  params: Float32Array;
  cfg: AdapterConfig;
}

/** A file-name-safe form of a model name (`owner/name` or `x.gguf` → `name`). */
export const modelSlug = (name: string) => name.split('/').pop()!.replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');

export function adapterGgufFile(model: LoadedModel, adapter: ExportAdapter, dtype: 'F32' | 'F16', modelName: string): { fileName: string; bytes: Uint8Array } {
  const bytes = adapterGguf(model.config, adapter.layout, adapter.params, { dtype, scale: loraScale(adapter.cfg), name: `${modelSlug(modelName)} LoRA` });
  return { fileName: `${modelSlug(modelName)}-lora-r${adapter.cfg.rank}-${dtype.toLowerCase()}.gguf`, bytes };
}

export interface MergedGgufFolder {
  /** The .gguf file and the Modelfile, by name. */
  files: Record<string, Uint8Array>;
  ggufName: string;
  /** The line that registers the model with ollama, run in the folder. */
  createLine: string;
}

export function mergedGgufFolder(model: LoadedModel, files: Record<string, Uint8Array>, adapter: ExportAdapter | null, fileType: GgufFileType,
  opts: { modelName: string; useChatTemplate: boolean }): MergedGgufFolder {
  const slug = modelSlug(opts.modelName);
  const ggufName = `${slug}-${adapter ? 'merged' : 'base'}-${fileType}.gguf`;
  const merge = adapter ? { layout: adapter.layout, params: adapter.params, scale: loraScale(adapter.cfg) } : null;
  const bytes = mergedGguf(model, files, merge, { fileType, name: `${slug}${adapter ? ' + LoRA' : ''}` });
  const modelfile = modelfileText(ggufName, ollamaPromptFormat(model.tokenizer, opts.useChatTemplate));
  return {
    files: { [ggufName]: bytes, Modelfile: new TextEncoder().encode(modelfile) },
    ggufName,
    createLine: ollamaCreateLine(ollamaName(`${slug}-${adapter ? 'lora' : 'base'}`)),
  };
}
