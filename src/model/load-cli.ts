/**
 * Node-only model and adapter opening for the CLI: `MODEL` is a .gguf file, a Hugging Face layout
 * folder, or `hf:owner/name[@revision]` (downloaded through the Hub client into the folder cache;
 * TSUGIKI_HF_ENDPOINT and TSUGIKI_CACHE_DIR override the endpoint and cache folder, HF_TOKEN
 * authenticates). Progress goes to the given callback (the CLI prints it on stderr).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeHubCache } from '../io/cache-node.ts';
import { downloadFile, HubError, type DownloadProgress } from '../io/hub.ts';
import { DEFAULT_ENDPOINT, parseHubId } from '../io/hub-id.ts';
import { parseShardIndex } from '../io/safetensors-index.ts';
import { importPeftAdapter, type ImportedAdapter } from '../lora/peft-import.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../lora/peft.ts';
import type { Gpu } from '../gpu/device.ts';
import { loraScale } from '../lora/config.ts';
import type { ModelConfig } from './config.ts';
import { Network } from './network.ts';
import { loadModelFromPath } from './load-node.ts';
import { loadModelFiles, type LoadedModel } from './load-source.ts';

export interface OpenOptions {
  /** Human-readable progress lines. */
  onProgress?: (line: string) => void;
  endpoint?: string;
  cacheDir?: string;
  token?: string;
}

async function downloadHubModel(spec: string, o: OpenOptions): Promise<LoadedModel> {
  const repo = parseHubId(spec);
  const cache = new NodeHubCache(o.cacheDir ?? process.env.TSUGIKI_CACHE_DIR ?? undefined);
  const endpoint = o.endpoint ?? process.env.TSUGIKI_HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  const token = o.token ?? process.env.HF_TOKEN ?? undefined;
  const onProgress = (e: DownloadProgress) => {
    if (e.status === 'done') o.onProgress?.(`${spec}: ${e.file} (${e.loaded} bytes)`);
  };
  const get = (path: string) => downloadFile(repo, path, { cache, endpoint, token, onProgress });
  const optional = async (path: string) => {
    try {
      return await get(path);
    } catch (e) {
      if (e instanceof HubError && e.kind === 'not-found') return null;
      throw e;
    }
  };
  const files: Record<string, Uint8Array> = {};
  files['config.json'] = await get('config.json');
  files['tokenizer.json'] = await get('tokenizer.json');
  const tokConfig = await optional('tokenizer_config.json');
  if (tokConfig) files['tokenizer_config.json'] = tokConfig;
  const single = await optional('model.safetensors');
  if (single) {
    files['model.safetensors'] = single;
  } else {
    const indexName = 'model.safetensors.index.json';
    const index = await optional(indexName);
    if (!index) throw new Error(`${spec}: the repository has neither model.safetensors nor ${indexName}; tsugiki reads safetensors checkpoints only.`);
    files[indexName] = index;
    for (const shard of parseShardIndex(new TextDecoder().decode(index), `${spec}/${indexName}`).shards) files[shard] = await get(shard);
  }
  return loadModelFiles(files, spec);
}

/** Opens MODEL (.gguf, folder, or hf:owner/name[@revision]). */
export async function openModel(spec: string, o: OpenOptions = {}): Promise<LoadedModel> {
  if (spec.startsWith('hf:')) return downloadHubModel(spec, o);
  return loadModelFromPath(spec);
}

/** Reads a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) for this model. */
export function openAdapter(dir: string, config: ModelConfig): ImportedAdapter {
  const need = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`${dir}: has no ${name}; an adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE} as PEFT saves them.`);
    return new Uint8Array(readFileSync(path));
  };
  return importPeftAdapter(need(ADAPTER_CONFIG_FILE), need(ADAPTER_WEIGHTS_FILE), config);
}

/** An inference network for the model, with the PEFT adapter in `adapterDir` loaded when given. */
export async function openNetwork(gpu: Gpu, model: LoadedModel, adapterDir: string | undefined, size: { maxBatch: number; maxSeq: number }): Promise<Network> {
  const adapter = adapterDir ? openAdapter(adapterDir, model.config) : null;
  const net = await Network.create(gpu, model, {
    ...size, training: false,
    adapter: adapter ? { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 } : null,
  });
  if (adapter) net.setAdapterParams(adapter.params);
  return net;
}
