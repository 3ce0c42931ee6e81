/**
 * Zip archives (adapter exports, imported adapters), via fflate. Archives are deterministic:
 * entries in the given order with a fixed timestamp, so the same files give the same bytes.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { FormatError } from './errors.ts';

/** 1980-01-01, the earliest time a zip entry can hold. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

export function zipFiles(files: Record<string, Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const [name, bytes] of Object.entries(files)) {
    if (name === '' || name.startsWith('/') || name.split('/').some((s) => s === '..')) {
      throw new Error(`zipFiles: '${name}' is not a relative path inside the archive`);
    }
    entries[name] = [bytes, { mtime: FIXED_MTIME }];
  }
  return zipSync(entries, { level: 6 });
}

export function unzipFiles(bytes: Uint8Array, source = 'archive.zip'): Record<string, Uint8Array> {
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
  if (!isZip) {
    throw new FormatError(source, 'is not a zip archive (it does not start with "PK"); pick the .zip that tsugiki exported, or the adapter folder itself');
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new FormatError(source, `is a damaged or unsupported zip archive (${(e as Error).message}); export or download it again`);
  }
  const out: Record<string, Uint8Array> = {};
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) continue; // folder entries carry no data
    if (name.startsWith('/') || name.split('/').some((s) => s === '..')) {
      throw new FormatError(source, `contains the entry '${name}', which points outside the archive; it is unsafe to extract`);
    }
    out[name] = data;
  }
  return out;
}
