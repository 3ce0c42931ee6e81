/**
 * Node only: the CLI's MODEL argument — a `.gguf` file, a Hugging Face layout folder, or
 * `hf:owner/name[@revision]` (downloaded into the Node Hub cache) — as a loaded model plus the
 * raw files a merge needs (the folder's files, or the .gguf bytes), and the name adapter_config.json records as base_model_name_or_path.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NodeHubCache } from '../io/cache-node.ts';
import { downloadFile, type DownloadProgress } from '../io/hub.ts';
import { parseHubId } from '../io/hub-id.ts';
import { parseShardIndex } from '../io/safetensors-index.ts';
import { loadModelFiles, withGgufName, type LoadedModel } from '../model/load-source.ts';
import { loadModelFromPath } from '../model/load-node.ts';

export interface ModelArg {
  model: LoadedModel;
  /** base_model_name_or_path: `owner/name` for hf:, else the path as given. */
  baseModel: string;
  revision?: string;
  /** The folder's files by name (HF layout: configs, tokenizer and safetensors), or the .gguf bytes. */
  files: Record<string, Uint8Array>;
}

const OPTIONAL_HUB_FILES = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

async function hubFiles(id: string, onProgress?: (e: DownloadProgress) => void): Promise<Record<string, Uint8Array>> {
  const repo = parseHubId(id);
  const opts = { cache: new NodeHubCache(), onProgress, token: process.env.HF_TOKEN };
  const files: Record<string, Uint8Array> = {};
  files['config.json'] = await downloadFile(repo, 'config.json', opts);
  files['tokenizer.json'] = await downloadFile(repo, 'tokenizer.json', opts);
  for (const name of OPTIONAL_HUB_FILES) {
    try {
      files[name] = await downloadFile(repo, name, opts);
    } catch (e) {
      if ((e as { kind?: string }).kind !== 'not-found') throw e;
    }
  }
  try {
    files['model.safetensors'] = await downloadFile(repo, 'model.safetensors', opts);
  } catch (e) {
    if ((e as { kind?: string }).kind !== 'not-found') throw e;
    const indexName = 'model.safetensors.index.json';
    files[indexName] = await downloadFile(repo, indexName, opts);
    const index = parseShardIndex(new TextDecoder().decode(files[indexName]), `${id}/${indexName}`);
    for (const shard of index.shards) files[shard] = await downloadFile(repo, shard, opts);
  }
  return files;
}

function folderFiles(path: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(path)) {
    if (/\.(json|safetensors|jinja)$/.test(name)) files[name] = new Uint8Array(readFileSync(join(path, name)));
  }
  return files;
}

export async function loadModelArg(arg: string, onProgress?: (e: DownloadProgress) => void): Promise<ModelArg> {
  if (arg.startsWith('hf:')) {
    const repo = parseHubId(arg);
    const files = await hubFiles(arg, onProgress);
    const model = loadModelFiles(files, arg);
    return { model, baseModel: `${repo.owner}/${repo.name}`, ...(repo.revision ? { revision: repo.revision } : {}), files };
  }
  const model = loadModelFromPath(arg);
  const isDir = existsSync(arg) && statSync(arg).isDirectory();
  const files = !isDir ? withGgufName({ [basename(arg)]: new Uint8Array(readFileSync(arg)) }) : model.format === 'safetensors' ? folderFiles(arg) : {};
  return { model, baseModel: arg, files };
}
