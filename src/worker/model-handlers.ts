import { BrowserHubCache } from '../io/cache-browser.ts';
import { parseGguf } from '../io/gguf.ts';
import { downloadFile, type DownloadProgress } from '../io/hub.ts';
import { loadModelFiles, withGgufName } from '../model/load-source.ts';
import { quantizeBase } from '../model/quantize-base.ts';
import type { HubCacheEntry } from '../io/hub-cache.ts';
import { summarizeModel, tokenizerSourceOf } from './model-summary.ts';
import type { ModelSummary } from './protocol.ts';
import { dropInference } from './compare-handlers.ts';
import { session } from './session.ts';

/** Files of a model folder that tsugiki never reads (weights in other formats, docs). */
const IGNORED = /\.(bin|pt|pth|h5|msgpack|onnx|md|txt|png|jpg|gitattributes)$/i;

/**
 * Loads a model from its files. On success it replaces the held model (and drops the adapter,
 * which belonged to the old one); on failure the previous model stays.
 */
export function loadFromFiles(files: Record<string, Uint8Array>, name: string): ModelSummary {
  let used: Record<string, Uint8Array> = {};
  for (const [path, bytes] of Object.entries(files)) {
    const base = path.split('/').pop() ?? path;
    if (!IGNORED.test(base)) used[base] = bytes;
  }
  used = withGgufName(used); // an ollama blob (sha256-…) is a GGUF file without the extension
  const model = loadModelFiles(used, name);
  const gguf = Object.keys(used).find((n) => n.toLowerCase().endsWith('.gguf'));
  const tokenizer = tokenizerSourceOf(used, gguf ? parseGguf(used[gguf], gguf).metadata : null);
  const fileBytes = Object.values(used).reduce((n, b) => n + b.length, 0);
  const summary = summarizeModel(model, gguf && Object.keys(used).length === 1 ? gguf : name, fileBytes, tokenizer);
  session.model = model;
  session.modelName = summary.name;
  session.files = used;
  session.hubRepo = null;
  session.adapter = null;
  session.lastRun = null;
  dropInference();
  return summary;
}

/** The held model with its weights quantized at load (a 4-bit base); the adapter, if any, stays. */
export function quantizeHeldBase(): ModelSummary {
  const held = session.model;
  if (!held || !session.files) throw new Error('Load a model first: the 4-bit base quantizes the loaded model.');
  const { model } = quantizeBase(held);
  const gguf = Object.keys(session.files).find((n) => n.toLowerCase().endsWith('.gguf'));
  const tokenizer = tokenizerSourceOf(session.files, gguf ? parseGguf(session.files[gguf], gguf).metadata : null);
  const fileBytes = Object.values(session.files).reduce((n, b) => n + b.length, 0);
  session.model = model;
  dropInference();
  return summarizeModel(model, session.modelName, fileBytes, tokenizer);
}

export function bytesOf(buffers: Record<string, ArrayBuffer>): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(buffers)) out[k] = new Uint8Array(v);
  return out;
}

function hubCache(): BrowserHubCache | undefined {
  try {
    return new BrowserHubCache();
  } catch {
    return undefined;
  }
}

/** Downloads a Hub model's files (cache first) one after another, then loads them. `token`: a Hugging Face access token, sent to the Hub only. */
export async function downloadModel(repo: string, paths: string[], progress: (p: DownloadProgress) => void, token?: string): Promise<ModelSummary> {
  const cache = hubCache();
  const files: Record<string, Uint8Array> = {};
  for (const path of paths) {
    files[path] = await downloadFile(repo, path, {
      cache,
      token: token || undefined,
      onProgress: progress,
      onWarning: (message) => progress({ status: 'progress', file: `${path} (${message})`, loaded: 0, total: 0 }),
    });
  }
  const summary = loadFromFiles(files, repo);
  session.hubRepo = repo;
  return summary;
}

export async function listCache(): Promise<HubCacheEntry[]> {
  return (await hubCache()?.list()) ?? [];
}

export async function clearCache(): Promise<null> {
  await hubCache()?.clear();
  return null;
}
