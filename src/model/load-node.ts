/** Node-only model loading from a path (kept apart so the browser bundle never imports node:fs). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isGgufBytes, loadModelFiles, type LoadedModel } from './load-source.ts';

/** Files of an HF folder worth reading: configs, tokenizer files and safetensors weights. */
const WANTED = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|model\.safetensors\.index\.json|.*\.safetensors)$/;

/** Loads a `.gguf` file or a Hugging Face layout folder. */
export function loadModelFromPath(path: string): LoadedModel {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new Error(`${path}: no such file or folder; give a .gguf file or a folder with config.json, *.safetensors and tokenizer.json`);
  }
  if (!isDir) {
    const bytes = new Uint8Array(readFileSync(path));
    // ollama keeps GGUF files as blobs without the extension (~/.ollama/models/blobs/sha256-…).
    if (!path.toLowerCase().endsWith('.gguf') && !isGgufBytes(bytes)) throw new Error(`${path}: is a file but not a .gguf; give a .gguf file or a Hugging Face model folder`);
    return loadModelFiles({ [basename(path)]: bytes }, path);
  }
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(path)) {
    if (WANTED.test(name)) files[name] = new Uint8Array(readFileSync(join(path, name)));
  }
  const ggufs = readdirSync(path).filter((n) => n.toLowerCase().endsWith('.gguf'));
  if (Object.keys(files).length === 0 && ggufs.length === 1) return loadModelFromPath(join(path, ggufs[0]));
  return loadModelFiles(files, path);
}
