import { DataError } from './errors.ts';

/** Byte offset of the first invalid UTF-8 sequence, or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Decodes a dataset file as UTF-8 (a leading BOM is dropped). Refuses empty files and bytes
 * that are not UTF-8, naming the line of the first bad byte.
 */
export function decodeDatasetText(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new DataError(file, null, 'the file is empty; choose a file with a header row and data rows');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < Math.max(at, 0); i++) if (bytes[i] === 0x0a) line++;
    const hex = at >= 0 ? ` (byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${at})` : '';
    throw new DataError(
      file,
      line,
      `the file is not UTF-8 text${hex}; save it as "CSV UTF-8" (Excel) or re-encode it to UTF-8 and upload it again`,
    );
  }
  if (text.trim().length === 0) throw new DataError(file, null, 'the file has no data (only whitespace); choose a file with rows');
  return text;
}
