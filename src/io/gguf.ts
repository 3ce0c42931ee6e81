/**
 * GGUF reader, versions 2 and 3 (spec: ggml-org/ggml docs/gguf.md). Little-endian layout:
 *
 *   "GGUF" | version u32 | tensor_count u64 | kv_count u64
 *   kv_count × (key string, value type u32, value)
 *   tensor_count × (name string, n_dims u32, dims u64 × n_dims, ggml type u32, offset u64)
 *   padding to `general.alignment` (default 32) | tensor data (offsets relative to its start)
 *
 * Strings are a u64 byte length then UTF-8. Dims are in ggml order: dims[0] varies fastest, so a
 * Hugging Face weight [out, in] appears as dims [in, out]. F32, F16, BF16 and the quantized types
 * of QUANT_TYPE_IDS (Q4_0 … Q8_0, Q2_K … Q6_K) are read; other types are listed, and refused by
 * `refuseUnsupportedTypes` with a message that names them and what to download instead.
 */
import { ByteReader } from './byte-reader.ts';
import { FormatError } from './errors.ts';
import { dequantizeToF32 } from './ggml-dequant.ts';
import { GGML_BF16, GGML_F16, GGML_F32, GGML_TYPES, quantNameOf } from './ggml-types.ts';
import { bf16ToF32, f16ToF32 } from './halfs.ts';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** GGUF metadata value types (gguf_metadata_value_type). */
export const GgufType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7,
  STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;

export interface GgufTensorInfo {
  name: string;
  /** GGUF order: dims[0] is the fastest-varying (columns). */
  dims: number[];
  type: number;
  typeName: string;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
}

export interface GgufFile {
  source: string;
  version: number;
  alignment: number;
  /** Absolute byte offset where the tensor data section starts. */
  dataOffset: number;
  metadata: Record<string, GgufValue>;
  /** The stored value type of each metadata key (GgufType values). */
  metadataTypes: Record<string, number>;
  tensors: GgufTensorInfo[];
}

const MAX_DIMS = 4;
const MAX_ARRAY_NESTING = 8;
/** Smallest encoding of one value of each type, used to bound counts before allocating. */
const MIN_VALUE_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];
const TYPE_NAMES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'];

function bigToValue(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

function readValue(r: ByteReader, type: number, what: string, depth: number): GgufValue {
  switch (type) {
    case GgufType.UINT8: return r.u8(what);
    case GgufType.INT8: return r.i8(what);
    case GgufType.UINT16: return r.u16(what);
    case GgufType.INT16: return r.i16(what);
    case GgufType.UINT32: return r.u32(what);
    case GgufType.INT32: return r.i32(what);
    case GgufType.FLOAT32: return r.f32(what);
    case GgufType.UINT64: return bigToValue(r.u64Big(what));
    case GgufType.INT64: return bigToValue(r.i64Big(what));
    case GgufType.FLOAT64: return r.f64(what);
    case GgufType.STRING: return r.string(what, true);
    case GgufType.BOOL: {
      const at = r.pos;
      const b = r.u8(what);
      if (b > 1) r.fail(`${what} at byte ${at} is a bool stored as ${b} (must be 0 or 1); the file is damaged`);
      return b === 1;
    }
    case GgufType.ARRAY: {
      if (depth >= MAX_ARRAY_NESTING) r.fail(`${what} nests arrays more than ${MAX_ARRAY_NESTING} deep; the file is damaged`);
      const at = r.pos;
      const elemType = r.u32(`the element type of ${what}`);
      if (elemType >= MIN_VALUE_BYTES.length) r.fail(`${what} at byte ${at} has unknown element type ${elemType}; the file is damaged or newer than this reader`);
      const n = r.count(`the length of ${what}`, MIN_VALUE_BYTES[elemType]);
      const out: GgufValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(r, elemType, what, depth + 1);
      return out;
    }
    default:
      return r.fail(`${what} at byte ${r.pos - 4} has unknown value type ${type}; the file is damaged or newer than this reader`);
  }
}

function checkHeader(r: ByteReader): number {
  if (r.bytes.length < 8) r.fail(`the file is ${r.bytes.length} bytes, too short for a GGUF header; it is truncated or not a GGUF file`);
  const magic = String.fromCharCode(...r.bytes.subarray(0, 4));
  if (magic !== 'GGUF') {
    const hint = ['lmgg', 'fmgg', 'tjgg'].includes(magic)
      ? 'it is an old GGML/GGJT model from before GGUF; convert the original model again with a current llama.cpp (convert_hf_to_gguf.py)'
      : 'this is not a GGUF file (pick a .gguf model, or a folder with config.json and *.safetensors)';
    r.fail(`the file starts with ${JSON.stringify(magic)} instead of "GGUF"; ${hint}`);
  }
  r.pos = 4;
  const version = r.u32('the version');
  if (version === 2 || version === 3) return version;
  if (version === 1) {
    r.fail('this is GGUF version 1, the 2023 draft format with 32-bit lengths, which tsugiki does not read; convert the model again with a current llama.cpp (convert_hf_to_gguf.py) to get a version 3 file');
  }
  const swapped = ((version & 0xff) << 24 | (version & 0xff00) << 8 | (version >>> 8) & 0xff00 | version >>> 24) >>> 0;
  if (swapped >= 1 && swapped <= 3) {
    r.fail(`this is a big-endian GGUF file (version ${swapped} stored byte-swapped), made for big-endian machines such as s390x; tsugiki reads little-endian GGUF, so use the model's standard little-endian file`);
  }
  return r.fail(`GGUF version ${version} is not one this reader knows (2 and 3); the file is newer than tsugiki or damaged`);
}

function readAlignment(r: ByteReader, metadata: Map<string, GgufValue>): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return 32;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0 || value > 2 ** 30) {
    r.fail(`general.alignment is ${String(value)}, not a power of two; the file is damaged`);
  }
  return value;
}

function readTensorInfo(r: ByteReader, index: number, alignment: number): GgufTensorInfo {
  const name = r.string(`the name of tensor #${index}`);
  const where = `tensor '${name}'`;
  const nDims = r.u32(`the dimension count of ${where}`);
  if (nDims > MAX_DIMS) r.fail(`${where} has ${nDims} dimensions (at most ${MAX_DIMS} are allowed); the file is damaged`);
  const dims: number[] = [];
  let numel = 1;
  for (let d = 0; d < nDims; d++) {
    dims.push(r.u64Safe(`dimension ${d} of ${where}`));
    numel *= dims[d];
    if (!Number.isSafeInteger(numel)) r.fail(`${where} has dims [${dims.join(', ')}…], too many elements to address; the file is damaged`);
  }
  const type = r.u32(`the type of ${where}`);
  const t = GGML_TYPES.get(type);
  if (!t) r.fail(`${where} has unknown ggml type id ${type}; the file is damaged or uses a type newer than this reader`);
  if ((dims[0] ?? 1) % t.blockSize !== 0) {
    r.fail(`${where} is ${t.name} with ${dims[0]} columns, not a multiple of its block size ${t.blockSize}; the file is damaged`);
  }
  const offset = r.u64Safe(`the data offset of ${where}`);
  if (offset % alignment !== 0) r.fail(`${where} has data offset ${offset}, not a multiple of the alignment ${alignment}; the file is damaged`);
  return { name, dims, type, typeName: t.name, offset, byteLength: (numel / t.blockSize) * t.typeSize };
}

export function parseGguf(bytes: Uint8Array, source = 'model.gguf'): GgufFile {
  const r: ByteReader = new ByteReader(bytes, source);
  const version = checkHeader(r);
  const tensorCount = r.count('the tensor count', 24);
  const kvCount = r.count('the metadata count', 13);

  const metadata = new Map<string, GgufValue>();
  const metadataTypes = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key #${i}`);
    if (metadata.has(key)) r.fail(`metadata key '${key}' appears twice; the file is damaged`);
    const type = r.u32(`the value type of '${key}'`);
    metadata.set(key, readValue(r, type, `metadata '${key}'`, 0));
    metadataTypes.set(key, type);
  }
  const alignment = readAlignment(r, metadata);

  const infos: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const info = readTensorInfo(r, i, alignment);
    if (names.has(info.name)) r.fail(`tensor '${info.name}' is listed twice; the file is damaged`);
    names.add(info.name);
    infos.push(info);
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  const byOffset = [...infos].sort((a, b) => a.offset - b.offset);
  let previousEnd = 0;
  let previousName = '';
  for (const t of byOffset) {
    if (t.offset < previousEnd) r.fail(`tensor '${t.name}' starts at data offset ${t.offset}, inside tensor '${previousName}'; the file is damaged`);
    previousEnd = t.offset + t.byteLength;
    previousName = t.name;
    t.offset += dataOffset;
    if (t.offset + t.byteLength > bytes.length) {
      r.fail(`tensor '${t.name}' needs bytes ${t.offset} to ${t.offset + t.byteLength} but the file is ${bytes.length} bytes; it is truncated (download it again)`);
    }
  }
  return {
    source, version, alignment, dataOffset,
    metadata: Object.fromEntries(metadata),
    metadataTypes: Object.fromEntries(metadataTypes),
    tensors: infos,
  };
}

export function elementCount(info: GgufTensorInfo): number {
  return info.dims.reduce((a, b) => a * b, 1);
}

export function findGgufTensor(file: GgufFile, name: string): GgufTensorInfo {
  const info = file.tensors.find((t) => t.name === name);
  if (info) return info;
  throw new FormatError(file.source, `there is no tensor '${name}' (the file has ${file.tensors.length}); check the model's architecture is one tsugiki supports`);
}

/** The raw bytes of one tensor (a view, not a copy). */
export function ggufTensorBytes(file: GgufFile, bytes: Uint8Array, info: GgufTensorInfo): Uint8Array {
  if (info.offset + info.byteLength > bytes.length) {
    throw new FormatError(file.source, `tensor '${info.name}' ends at byte ${info.offset + info.byteLength} but the bytes given are ${bytes.length} long; pass the same bytes that were parsed`);
  }
  return bytes.subarray(info.offset, info.offset + info.byteLength);
}

/** Whether tsugiki reads tensors of this ggml type (F32, F16, BF16 or a supported quantized type). */
export function isReadableType(type: number): boolean {
  return type === GGML_F32 || type === GGML_F16 || type === GGML_BF16 || quantNameOf(type) !== null;
}

/**
 * Throws a FormatError when a tensor has a type tsugiki does not read (IQ*, TQ*, MXFP4, Q8_1,
 * Q8_K as a weight, integer types…), naming the types, the first tensors of each and what to use.
 */
export function refuseUnsupportedTypes(file: GgufFile): void {
  const byType = new Map<string, string[]>();
  for (const t of file.tensors) {
    if (isReadableType(t.type)) continue;
    byType.set(t.typeName, [...(byType.get(t.typeName) ?? []), t.name]);
  }
  if (byType.size === 0) return;
  const parts = [...byType].map(([type, names]) => {
    const shown = names.slice(0, 3).map((n) => `'${n}'`).join(', ');
    return `${names.length} ${type} tensor${names.length === 1 ? '' : 's'} (${shown}${names.length > 3 ? ', …' : ''})`;
  });
  throw new FormatError(file.source,
    `holds ${parts.join(' and ')}, a type tsugiki does not read; it reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the K-quants Q2_K–Q6_K (the *_K_S, *_K_M and *_K_L files) — download a Q4_K_M or Q8_0 file of the same model`);
}

/** One tensor widened (or dequantized) to f32 (always a new array), in file order (dims[0] fastest). */
export function ggufTensorToF32(file: GgufFile, bytes: Uint8Array, info: GgufTensorInfo): Float32Array {
  if (!isReadableType(info.type)) {
    throw new FormatError(file.source, `tensor '${info.name}' is ${info.typeName}, a type tsugiki does not read; download a Q4_K_M, Q8_0 or F16 file of the same model`);
  }
  const raw = ggufTensorBytes(file, bytes, info);
  if (quantNameOf(info.type)) return dequantizeToF32(info.type, raw, elementCount(info));
  const copy = new ArrayBuffer(raw.length);
  new Uint8Array(copy).set(raw);
  if (info.type === GGML_F32) return new Float32Array(copy);
  return info.type === GGML_F16 ? f16ToF32(new Uint16Array(copy)) : bf16ToF32(new Uint16Array(copy));
}

/** A readable name for a metadata value type, for messages. */
export function ggufTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}
