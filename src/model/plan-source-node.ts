/**
 * What `tsugiki plan` needs of a model, without loading its weights (Node only): the config and,
 * where the files are there, each tensor's stored type. MODEL is a .gguf file, a folder with
 * config.json (the safetensors files are optional: only their headers are read), or
 * hf:owner/name[@revision] (only config.json is downloaded).
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../io/errors.ts';
import { GGML_BF16, GGML_F16, GGML_F32 } from '../io/ggml-types.ts';
import { NodeHubCache } from '../io/cache-node.ts';
import { downloadFile } from '../io/hub.ts';
import { DEFAULT_ENDPOINT, parseHubId } from '../io/hub-id.ts';
import { parseShardIndex } from '../io/safetensors-index.ts';
import { configFromHf, type ModelConfig } from './config.ts';
import { loadModelFromPath } from './load-node.ts';
import { weightTypeOf } from './plan-run.ts';

export interface PlanSource {
  config: ModelConfig;
  /** Stored type of each tensor (ggml id), or null: the config's torch_dtype. */
  weightType: ((name: string) => number) | null;
  /** How the weights' types were known, for the report. */
  weightsFrom: 'files' | 'config';
  source: string;
}

const SAFE_TYPES: Record<string, number> = { F32: GGML_F32, F16: GGML_F16, BF16: GGML_BF16 };

/** A safetensors file's header only (8-byte length + JSON): name → ggml type id. */
function safetensorsTypes(path: string, out: Map<string, number>): void {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const n = Number(head.readBigUInt64LE(0));
    if (n <= 0 || n > 100 * 1024 ** 2) throw new FormatError(path, `has a header length of ${n} bytes; it is not a safetensors file`);
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    const header = JSON.parse(json.toString('utf8')) as Record<string, { dtype?: string }>;
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__' || !t.dtype) continue;
      const id = SAFE_TYPES[t.dtype];
      if (id === undefined) throw new FormatError(path, `tensor '${name}' is ${t.dtype}; tsugiki reads F32, F16 and BF16 safetensors`);
      out.set(name.startsWith('transformer.') || !/^(wte|wpe|h|ln_f)\./.test(name) ? name : `transformer.${name}`, id);
    }
  } finally {
    closeSync(fd);
  }
}

function folderSource(dir: string): PlanSource {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${dir}: has no config.json; tsugiki plan needs at least the model's config.json`);
  const config = configFromHf(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  const indexPath = join(dir, 'model.safetensors.index.json');
  const files = existsSync(indexPath)
    ? parseShardIndex(readFileSync(indexPath, 'utf8'), indexPath).shards
    : readdirSync(dir).filter((n) => n.endsWith('.safetensors'));
  const present = files.filter((f) => existsSync(join(dir, f)));
  if (present.length === 0 || present.length < files.length) return { config, weightType: null, weightsFrom: 'config', source: dir };
  const types = new Map<string, number>();
  for (const f of present) safetensorsTypes(join(dir, f), types);
  const weightType = (name: string) => {
    const t = types.get(name);
    if (t === undefined) throw new FormatError(dir, `has no tensor '${name}' in its safetensors files; the weights do not match config.json`);
    return t;
  };
  return { config, weightType, weightsFrom: 'files', source: dir };
}

/** Opens MODEL for planning. */
export async function openPlanSource(spec: string, onProgress?: (line: string) => void): Promise<PlanSource> {
  if (spec.startsWith('hf:')) {
    const repo = parseHubId(spec);
    const bytes = await downloadFile(repo, 'config.json', {
      cache: new NodeHubCache(process.env.TSUGIKI_CACHE_DIR ?? undefined),
      endpoint: process.env.TSUGIKI_HF_ENDPOINT ?? DEFAULT_ENDPOINT,
      token: process.env.HF_TOKEN ?? undefined,
      onProgress: (e) => {
        if (e.status === 'done') onProgress?.(`${spec}: ${e.file} (${e.loaded} bytes)`);
      },
    });
    const config = configFromHf(JSON.parse(new TextDecoder().decode(bytes)), `${spec}/config.json`);
    return { config, weightType: null, weightsFrom: 'config', source: spec };
  }
  let isDir: boolean;
  try {
    isDir = statSync(spec).isDirectory();
  } catch {
    throw new Error(`${spec}: no such file or folder; give a .gguf file, a folder with config.json, or hf:owner/name`);
  }
  if (isDir) return folderSource(spec);
  const model = loadModelFromPath(spec);
  return { config: model.config, weightType: weightTypeOf(model.weights), weightsFrom: 'files', source: spec };
}
