/**
 * ONNX external data: a protobuf message cannot exceed 2 GiB, so larger models keep their weights
 * in side files named as transformers.js looks for them — `model.onnx_data`, `model.onnx_data_1`, …
 * (`<file>_data[_i]`) — each tensor pointing at its bytes with location / offset / length entries
 * (onnx.proto TensorProto.external_data, data_location = EXTERNAL). Offsets are 4096-aligned, as
 * onnx.proto recommends for memory mapping.
 */
import type { ModelMsg } from './proto.ts';

/** The largest protobuf ONNX runtimes read, less a margin for the graph itself. */
export const MAX_INLINE_BYTES = 2 ** 31 - 2 ** 24;

const ALIGN = 4096;
const DATA_LOCATION_EXTERNAL = 1;

export interface ExternalDataOptions {
  /** Initializers smaller than this stay inside the model (constants, norms); default 1024 bytes. */
  minBytes?: number;
  /** Largest side file (default MAX_INLINE_BYTES, which browsers can hold in one ArrayBuffer). */
  chunkBytes?: number;
}

/** Total bytes of the initializers' data. */
export function initializerBytes(m: ModelMsg): number {
  return m.initializers.reduce((sum, t) => sum + (t.rawData?.length ?? 0), 0);
}

/** transformers.js's name for chunk i of `fileName`'s external data. */
export function externalDataName(fileName: string, i: number): string {
  return `${fileName}_data${i === 0 ? '' : `_${i}`}`;
}

/**
 * Moves the large initializers of `m` (in place) into side files for the model file `fileName`
 * (a base name like `model.onnx`); returns the side files by base name, in chunk order.
 */
export function moveToExternalData(m: ModelMsg, fileName: string, opts: ExternalDataOptions = {}): Record<string, Uint8Array> {
  const minBytes = opts.minBytes ?? 1024;
  const chunkBytes = opts.chunkBytes ?? MAX_INLINE_BYTES;
  const chunks: { parts: { offset: number; bytes: Uint8Array }[]; size: number }[] = [];
  for (const t of m.initializers) {
    const raw = t.rawData;
    if (!raw || raw.length < minBytes) continue;
    if (raw.length > chunkBytes) throw new Error(`export: tensor '${t.name}' has ${raw.length} bytes, more than one external data file may hold (${chunkBytes})`);
    let chunk = chunks[chunks.length - 1];
    let offset = chunk ? Math.ceil(chunk.size / ALIGN) * ALIGN : 0;
    if (!chunk || offset + raw.length > chunkBytes) {
      chunk = { parts: [], size: 0 };
      chunks.push(chunk);
      offset = 0;
    }
    chunk.parts.push({ offset, bytes: raw });
    chunk.size = offset + raw.length;
    t.rawData = undefined;
    t.dataLocation = DATA_LOCATION_EXTERNAL;
    t.externalData = [
      { key: 'location', value: externalDataName(fileName, chunks.length - 1) },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
  }
  const files: Record<string, Uint8Array> = {};
  chunks.forEach((c, i) => {
    const out = new Uint8Array(c.size);
    for (const p of c.parts) out.set(p.bytes, p.offset);
    files[externalDataName(fileName, i)] = out;
  });
  return files;
}
