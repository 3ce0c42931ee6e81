/**
 * safetensors reader and writer, following the rules of the reference implementation
 * (huggingface/safetensors `safetensors/src/tensor.rs`):
 *
 *   [u64 little-endian N][N bytes of UTF-8 JSON header][data section]
 *
 * The header maps tensor names to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the data section) plus an optional `__metadata__` of string → string. Tensors must tile the
 * data section exactly: sorted by offset they start at 0, follow each other with no gap or
 * overlap, each spans product(shape) × dtype size bytes, and the last one ends at the file's end.
 */
import { FormatError } from './errors.ts';
import { bf16ToF32, f16ToF32 } from './halfs.ts';

export type SafeDtype = 'F32' | 'F16' | 'BF16';

export interface SafeTensorInfo {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Absolute byte offsets in the file (header included), end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  source: string;
  metadata: Record<string, string>;
  /** In file order (ascending offsets). */
  tensors: SafeTensorInfo[];
}

export interface SafeTensorInput {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** F32 takes a Float32Array; F16 and BF16 take the raw 16-bit patterns. */
  data: Float32Array | Uint16Array;
}

const MAX_HEADER_SIZE = 100_000_000;

/** Element sizes of every dtype the reference knows, in its alignment order (used for sorting). */
const DTYPE_ORDER: [string, number][] = [
  ['BOOL', 1], ['U8', 1], ['I8', 1], ['F8_E5M2', 1], ['F8_E4M3', 1], ['I16', 2], ['U16', 2],
  ['F16', 2], ['BF16', 2], ['I32', 4], ['U32', 4], ['F32', 4], ['F64', 8], ['I64', 8], ['U64', 8],
];
const DTYPE_SIZE = new Map(DTYPE_ORDER);
const DTYPE_RANK = new Map(DTYPE_ORDER.map(([name], i) => [name, i]));
/** Names the reference accepts but whose size is sub-byte or otherwise not worth tiling here. */
const OTHER_KNOWN_DTYPES = new Set(['F4', 'F6_E2M3', 'F6_E3M2', 'F8_E8M0', 'C64', 'PackedI4', 'PackedU4']);
const READABLE: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readU64(bytes: Uint8Array, at: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  return hi * 2 ** 32 + lo; // exact below 2^53; larger values only need to compare as "too large"
}

interface RawEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(source: string, name: string, value: unknown): RawEntry {
  const where = `tensor '${name}' in the header`;
  if (!isPlainObject(value)) throw new FormatError(source, `${where} is not an object {dtype, shape, data_offsets}; the file is damaged or not safetensors`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw new FormatError(source, `${where} has no string "dtype"; the file is damaged`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(source, `${where} has a "shape" that is not a list of non-negative integers; the file is damaged`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new FormatError(source, `${where} has "data_offsets" that are not two non-negative integers below 2^53; the file is damaged`);
  }
  return { name, dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

function byteSize(source: string, e: RawEntry): number {
  const size = DTYPE_SIZE.get(e.dtype);
  if (size === undefined) {
    const hint = OTHER_KNOWN_DTYPES.has(e.dtype) ? '' : ' (not a safetensors dtype)';
    throw new FormatError(source, `tensor '${e.name}' has dtype ${e.dtype}${hint}; tsugiki reads F32, F16 and BF16`);
  }
  let n = size;
  for (const d of e.shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) throw new FormatError(source, `tensor '${e.name}' has shape [${e.shape.join(', ')}], too large to address; the file is damaged`);
  }
  return n;
}

/** Reads and validates the header; no tensor data is copied. */
export function parseSafetensors(bytes: Uint8Array, source = 'model.safetensors'): SafetensorsFile {
  if (bytes.length < 8) {
    throw new FormatError(source, `the file is ${bytes.length} bytes, too short for the 8-byte header length; it is truncated or not a safetensors file`);
  }
  const n = readU64(bytes, 0);
  if (n > MAX_HEADER_SIZE) {
    throw new FormatError(source, `the header length at byte 0 says ${n} bytes, over the 100,000,000-byte limit; this is not a safetensors file (or it is damaged)`);
  }
  if (8 + n > bytes.length) {
    throw new FormatError(source, `the header is ${n} bytes but only ${bytes.length - 8} follow the length field; the file is truncated (download it again)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new FormatError(source, `the header (bytes 8 to ${8 + n}) is not valid UTF-8; the file is damaged or not safetensors`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new FormatError(source, `the header (bytes 8 to ${8 + n}) is not valid JSON (${(e as Error).message}); the file is damaged or not safetensors`);
  }
  if (!isPlainObject(header)) throw new FormatError(source, 'the header is JSON but not an object of tensors; the file is not safetensors');

  let metadata: Record<string, string> = {};
  const entries: RawEntry[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        throw new FormatError(source, '"__metadata__" must map strings to strings; the file is damaged');
      }
      metadata = Object.fromEntries(Object.entries(value as Record<string, string>));
    } else {
      entries.push(parseEntry(source, key, value));
    }
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + n;
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor || e.end < e.begin) {
      throw new FormatError(source, `tensor '${e.name}' has data_offsets [${e.begin}, ${e.end}] but the previous tensor ends at ${cursor}; tensors must follow each other with no gap or overlap (the file is damaged)`);
    }
    const size = byteSize(source, e);
    if (e.end - e.begin !== size) {
      throw new FormatError(source, `tensor '${e.name}' (${e.dtype}, shape [${e.shape.join(', ')}]) needs ${size} bytes but its data_offsets [${e.begin}, ${e.end}] span ${e.end - e.begin}; the file is damaged`);
    }
    cursor = e.end;
  }
  if (cursor !== bytes.length - dataStart) {
    throw new FormatError(source, `the tensors cover ${cursor} bytes of data but the file has ${bytes.length - dataStart} after the header; the file is ${cursor > bytes.length - dataStart ? 'truncated (download it again)' : 'damaged (trailing bytes)'}`);
  }
  const tensors: SafeTensorInfo[] = entries.map((e) => {
    if (!READABLE.has(e.dtype)) throw new FormatError(source, `tensor '${e.name}' has dtype ${e.dtype}; tsugiki reads F32, F16 and BF16`);
    return { name: e.name, dtype: e.dtype as SafeDtype, shape: e.shape, begin: dataStart + e.begin, end: dataStart + e.end };
  });
  return { source, metadata, tensors };
}

export function findTensor(file: SafetensorsFile, name: string): SafeTensorInfo {
  const info = file.tensors.find((t) => t.name === name);
  if (info) return info;
  const some = file.tensors.slice(0, 5).map((t) => `'${t.name}'`).join(', ');
  throw new FormatError(file.source, `there is no tensor '${name}' (the file has ${file.tensors.length} tensors${some ? `, e.g. ${some}` : ''}); check the model matches the expected architecture`);
}

/** The raw little-endian bytes of one tensor (a view, not a copy). */
export function tensorBytes(file: SafetensorsFile, bytes: Uint8Array, name: string): Uint8Array {
  const info = findTensor(file, name);
  if (info.end > bytes.length) throw new FormatError(file.source, `tensor '${name}' ends at byte ${info.end} but the bytes given are ${bytes.length} long; pass the same bytes that were parsed`);
  return bytes.subarray(info.begin, info.end);
}

/** Copies raw bytes into a fresh buffer, so typed-array views of it are aligned. */
function copyAligned(raw: Uint8Array): ArrayBuffer {
  const buf = new ArrayBuffer(raw.length);
  new Uint8Array(buf).set(raw);
  return buf;
}

/** One tensor widened to f32 (always a new array). */
export function tensorToF32(file: SafetensorsFile, bytes: Uint8Array, name: string): Float32Array {
  const info = findTensor(file, name);
  if (info.end > bytes.length) throw new FormatError(file.source, `tensor '${name}' ends at byte ${info.end} but the bytes given are ${bytes.length} long; pass the same bytes that were parsed`);
  const raw = bytes.subarray(info.begin, info.end);
  if (info.dtype === 'F32') return new Float32Array(copyAligned(raw));
  const u16 = new Uint16Array(copyAligned(raw));
  return info.dtype === 'F16' ? f16ToF32(u16) : bf16ToF32(u16);
}

/**
 * Serialises tensors like the reference writer: sorted by descending dtype alignment, then by
 * name; compact JSON header (`__metadata__` first, keys sorted), padded with spaces to a multiple
 * of 8 bytes so every tensor starts aligned.
 */
export function writeSafetensors(tensors: SafeTensorInput[], metadata?: Record<string, string>): Uint8Array {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`writeSafetensors: tensor '${t.name}' is given twice; names must be unique`);
    if (t.name === '__metadata__') throw new Error("writeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    names.add(t.name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const typeOk = t.dtype === 'F32' ? t.data instanceof Float32Array : READABLE.has(t.dtype) && t.data instanceof Uint16Array;
    if (!typeOk) {
      throw new Error(`writeSafetensors: tensor '${t.name}' is ${t.dtype} but its data is a ${t.data.constructor.name}; F32 needs a Float32Array, F16/BF16 a Uint16Array of bit patterns`);
    }
    if (t.data.length !== numel) throw new Error(`writeSafetensors: tensor '${t.name}' has shape [${t.shape.join(', ')}] (${numel} values) but ${t.data.length} values`);
  }
  const sorted = [...tensors].sort((a, b) => {
    const byDtype = (DTYPE_RANK.get(b.dtype) ?? 0) - (DTYPE_RANK.get(a.dtype) ?? 0);
    return byDtype !== 0 ? byDtype : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort();
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(metadata[k]))}`).join(',')}}`);
  }
  let offset = 0;
  for (const t of sorted) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const t of sorted) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
