/**
 * `model.safetensors.index.json`: the map of a sharded checkpoint,
 * `{ "metadata": {...}, "weight_map": { tensorName: "model-00001-of-00002.safetensors", ... } }`.
 */
import { FormatError } from './errors.ts';

export interface ShardIndex {
  metadata: Record<string, unknown>;
  /** tensor name → shard file name (relative to the index file). */
  weightMap: Record<string, string>;
  /** The distinct shard files, sorted. */
  shards: string[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A shard must be a plain relative path inside the model folder. */
function isSafeShardPath(p: string): boolean {
  if (p.length === 0 || p.startsWith('/') || p.includes('\\') || /^[a-zA-Z]:/.test(p)) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Accepts the file's text or its already-parsed JSON. */
export function parseShardIndex(json: string | unknown, source = 'model.safetensors.index.json'): ShardIndex {
  let doc: unknown = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json);
    } catch (e) {
      throw new FormatError(source, `is not valid JSON (${(e as Error).message}); download it again`);
    }
  }
  if (!isPlainObject(doc)) throw new FormatError(source, 'must be a JSON object with a "weight_map"; this is not a safetensors index');
  const { metadata = {}, weight_map: weightMap } = doc;
  if (!isPlainObject(metadata)) throw new FormatError(source, '"metadata" must be an object');
  if (!isPlainObject(weightMap)) throw new FormatError(source, 'has no "weight_map" object mapping tensor names to shard files; this is not a safetensors index');
  const entries = Object.entries(weightMap);
  if (entries.length === 0) throw new FormatError(source, '"weight_map" is empty; the index lists no tensors');
  for (const [name, shard] of entries) {
    if (typeof shard !== 'string' || !shard.endsWith('.safetensors')) {
      throw new FormatError(source, `"weight_map" entry '${name}' must name a .safetensors file, got ${JSON.stringify(shard)}`);
    }
    if (!isSafeShardPath(shard)) {
      throw new FormatError(source, `"weight_map" entry '${name}' points to '${shard}', which is not a relative path inside the model folder`);
    }
  }
  const map = Object.fromEntries(entries) as Record<string, string>;
  return { metadata, weightMap: map, shards: [...new Set(Object.values(map))].sort() };
}
