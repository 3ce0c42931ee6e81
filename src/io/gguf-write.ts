/**
 * GGUF writer, version 3 (spec: ggml-org/ggml docs/gguf.md; layout as llama.cpp's gguf-py
 * GGUFWriter writes it):
 *
 *   "GGUF" | version u32 = 3 | tensor_count u64 | kv_count u64
 *   kv_count × (key string, value type u32, value)        in the order given
 *   tensor_count × (name string, n_dims u32, dims u64 × n_dims, ggml type u32, offset u64)
 *   padding to the alignment | each tensor's data, padded to the alignment
 *
 * The alignment is `general.alignment` when the metadata holds it (a power of two), else 32.
 * Dims are in ggml order (dims[0] fastest): a row-major [out, in] weight is dims [in, out].
 * Tensor data is given already encoded in its ggml type (src/io/ggml-quantize.ts encodes f32
 * values to F32/F16/BF16/Q8_0/Q5_0/Q4_K/Q6_K); its length is checked against the type's block size.
 */
import { GgufType, type GgufValue } from './gguf.ts';
import { GGML_TYPES } from './ggml-types.ts';

export type GgufTypeId = (typeof GgufType)[keyof typeof GgufType];

/** One metadata entry: its key, stored type and value (arrays name their element type). */
export interface GgufKv {
  key: string;
  type: GgufTypeId;
  value: GgufValue;
  /** For ARRAY: the type of every element (arrays of arrays are not written). */
  elemType?: GgufTypeId;
}

export interface GgufTensorOut {
  name: string;
  /** ggml order: dims[0] varies fastest. */
  dims: number[];
  /** ggml type id (src/io/ggml-types.ts). */
  type: number;
  /** The encoded bytes, exactly (elements / blockSize) × typeSize long. */
  data: Uint8Array;
}

/** Builders for metadata entries, named by the GGUF value type they store. */
export const kv = {
  u8: (key: string, value: number): GgufKv => ({ key, type: GgufType.UINT8, value }),
  i8: (key: string, value: number): GgufKv => ({ key, type: GgufType.INT8, value }),
  u16: (key: string, value: number): GgufKv => ({ key, type: GgufType.UINT16, value }),
  i16: (key: string, value: number): GgufKv => ({ key, type: GgufType.INT16, value }),
  u32: (key: string, value: number): GgufKv => ({ key, type: GgufType.UINT32, value }),
  i32: (key: string, value: number): GgufKv => ({ key, type: GgufType.INT32, value }),
  u64: (key: string, value: number | bigint): GgufKv => ({ key, type: GgufType.UINT64, value }),
  i64: (key: string, value: number | bigint): GgufKv => ({ key, type: GgufType.INT64, value }),
  f32: (key: string, value: number): GgufKv => ({ key, type: GgufType.FLOAT32, value }),
  f64: (key: string, value: number): GgufKv => ({ key, type: GgufType.FLOAT64, value }),
  bool: (key: string, value: boolean): GgufKv => ({ key, type: GgufType.BOOL, value }),
  str: (key: string, value: string): GgufKv => ({ key, type: GgufType.STRING, value }),
  array: (key: string, elemType: GgufTypeId, value: GgufValue[]): GgufKv => ({ key, type: GgufType.ARRAY, elemType, value }),
};

const FIXED_SIZE: Record<number, number> = {
  [GgufType.UINT8]: 1, [GgufType.INT8]: 1, [GgufType.UINT16]: 2, [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4, [GgufType.INT32]: 4, [GgufType.FLOAT32]: 4, [GgufType.BOOL]: 1,
  [GgufType.UINT64]: 8, [GgufType.INT64]: 8, [GgufType.FLOAT64]: 8,
};

const utf8 = new TextEncoder();

/** UTF-8 byte length of a JS string (lone surrogates count as U+FFFD, as TextEncoder writes them). */
function utf8Length(str: string): number {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The byte length of one tensor's data in a ggml type, or an error naming the tensor. */
export function ggmlByteLength(name: string, dims: readonly number[], type: number): number {
  const t = GGML_TYPES.get(type);
  if (!t) throw new Error(`writeGguf: tensor '${name}' has unknown ggml type id ${type}`);
  if (dims.length < 1 || dims.length > 4 || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new Error(`writeGguf: tensor '${name}' has dims [${dims.join(', ')}]; give 1 to 4 positive integers in ggml order`);
  }
  if (dims[0] % t.blockSize !== 0) {
    throw new Error(`writeGguf: tensor '${name}' has ${dims[0]} columns, not a multiple of ${t.name}'s block size ${t.blockSize}; store it in another type`);
  }
  return (dims.reduce((a, b) => a * b, 1) / t.blockSize) * t.typeSize;
}

class Out {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(v: number) { this.view.setUint32(this.pos, v, true); this.pos += 4; }
  u64(v: number | bigint) {
    if (typeof v === 'number' && v <= 0xffffffff) {
      this.view.setUint32(this.pos, v, true);
      this.view.setUint32(this.pos + 4, 0, true);
    } else {
      this.view.setBigUint64(this.pos, BigInt(v), true);
    }
    this.pos += 8;
  }
  raw(b: Uint8Array) { this.bytes.set(b, this.pos); this.pos += b.length; }
  /** A GGUF string: u64 byte length, then UTF-8 (ASCII written directly). */
  str(s: string) {
    const n = utf8Length(s);
    this.u64(n);
    if (n === s.length) {
      for (let i = 0; i < n; i++) this.bytes[this.pos + i] = s.charCodeAt(i);
    } else {
      utf8.encodeInto(s, this.bytes.subarray(this.pos, this.pos + n));
    }
    this.pos += n;
  }
}

function rangeError(key: string, v: GgufValue, lo: number | bigint, hi: number | bigint): never {
  throw new Error(`writeGguf: metadata '${key}' should be an integer in [${lo}, ${hi}] but is ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
}

const INT_RANGES: Record<number, [number | bigint, number | bigint]> = {
  [GgufType.UINT8]: [0, 255], [GgufType.INT8]: [-128, 127], [GgufType.UINT16]: [0, 65535], [GgufType.INT16]: [-32768, 32767],
  [GgufType.UINT32]: [0, 0xffffffff], [GgufType.INT32]: [-0x80000000, 0x7fffffff],
  [GgufType.UINT64]: [0, 0xffffffffffffffffn], [GgufType.INT64]: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

function checkValue(key: string, type: number, v: GgufValue): void {
  if (type === GgufType.STRING) {
    if (typeof v !== 'string') throw new Error(`writeGguf: metadata '${key}' should be a string but is ${String(v)}`);
    return;
  }
  const range = INT_RANGES[type];
  if (range) {
    const [lo, hi] = range;
    if (typeof v === 'bigint') {
      if (v < BigInt(lo) || v > BigInt(hi)) rangeError(key, v, lo, hi);
    } else if (typeof v !== 'number' || !Number.isInteger(v) || v < Number(lo) || v > Number(hi)) {
      rangeError(key, v, lo, hi);
    }
    return;
  }
  if (type === GgufType.FLOAT32 || type === GgufType.FLOAT64) {
    if (typeof v !== 'number') throw new Error(`writeGguf: metadata '${key}' should be a number but is ${String(v)}`);
    return;
  }
  if (type === GgufType.BOOL) {
    if (typeof v !== 'boolean') throw new Error(`writeGguf: metadata '${key}' should be a bool but is ${String(v)}`);
    return;
  }
  throw new Error(`writeGguf: metadata '${key}' has unknown value type ${type}`);
}

/** Encoded size of one metadata value. */
function valueSize(e: GgufKv): number {
  const one = (type: number, v: GgufValue): number => {
    checkValue(e.key, type, v);
    return type === GgufType.STRING ? 8 + utf8Length(v as string) : FIXED_SIZE[type];
  };
  if (e.type !== GgufType.ARRAY) return one(e.type, e.value);
  if (!Array.isArray(e.value)) throw new Error(`writeGguf: metadata '${e.key}' is an ARRAY but its value is not an array`);
  const elem = e.elemType;
  if (elem === undefined || elem === GgufType.ARRAY) throw new Error(`writeGguf: metadata '${e.key}' needs a non-array element type`);
  let n = 12;
  for (const v of e.value) n += one(elem, v);
  return n;
}

function writeValue(o: Out, type: number, v: GgufValue): void {
  const dv = o.view;
  switch (type) {
    case GgufType.UINT8: dv.setUint8(o.pos, v as number); break;
    case GgufType.INT8: dv.setInt8(o.pos, v as number); break;
    case GgufType.UINT16: dv.setUint16(o.pos, v as number, true); break;
    case GgufType.INT16: dv.setInt16(o.pos, v as number, true); break;
    case GgufType.UINT32: dv.setUint32(o.pos, v as number, true); break;
    case GgufType.INT32: dv.setInt32(o.pos, v as number, true); break;
    case GgufType.FLOAT32: dv.setFloat32(o.pos, v as number, true); break;
    case GgufType.FLOAT64: dv.setFloat64(o.pos, v as number, true); break;
    case GgufType.UINT64: dv.setBigUint64(o.pos, BigInt(v as number | bigint), true); break;
    case GgufType.INT64: dv.setBigInt64(o.pos, BigInt(v as number | bigint), true); break;
    case GgufType.BOOL: dv.setUint8(o.pos, v ? 1 : 0); break;
    case GgufType.STRING: o.str(v as string); return;
  }
  o.pos += FIXED_SIZE[type];
}

function alignmentOf(metadata: readonly GgufKv[]): number {
  const e = metadata.find((m) => m.key === 'general.alignment');
  if (!e) return 32;
  const v = Number(e.value);
  if (e.type !== GgufType.UINT32 || !Number.isInteger(v) || v <= 0 || (v & (v - 1)) !== 0) {
    throw new Error(`writeGguf: general.alignment must be a u32 power of two, got ${String(e.value)}`);
  }
  return v;
}

const pad = (n: number, a: number) => Math.ceil(n / a) * a;

/** The bytes of a GGUF v3 file with these metadata entries and tensors, in the order given. */
export function writeGguf(metadata: readonly GgufKv[], tensors: readonly GgufTensorOut[]): Uint8Array {
  const alignment = alignmentOf(metadata);
  const seenKeys = new Set<string>();
  let size = 24;
  for (const e of metadata) {
    if (seenKeys.has(e.key)) throw new Error(`writeGguf: metadata key '${e.key}' is given twice`);
    seenKeys.add(e.key);
    size += 8 + utf8Length(e.key) + 4 + valueSize(e);
  }
  const seenNames = new Set<string>();
  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of tensors) {
    if (seenNames.has(t.name)) throw new Error(`writeGguf: tensor '${t.name}' is given twice`);
    seenNames.add(t.name);
    const n = ggmlByteLength(t.name, t.dims, t.type);
    if (t.data.length !== n) {
      throw new Error(`writeGguf: tensor '${t.name}' (${GGML_TYPES.get(t.type)?.name}, dims [${t.dims.join(', ')}]) needs ${n} bytes of data but ${t.data.length} were given`);
    }
    size += 8 + utf8Length(t.name) + 4 + 8 * t.dims.length + 4 + 8;
    offsets.push(dataSize);
    dataSize = pad(dataSize + n, alignment);
  }
  const dataStart = pad(size, alignment);
  const o = new Out(dataStart + dataSize);
  o.raw(utf8.encode('GGUF'));
  o.u32(3);
  o.u64(tensors.length);
  o.u64(metadata.length);
  for (const e of metadata) {
    o.str(e.key);
    o.u32(e.type);
    if (e.type === GgufType.ARRAY) {
      const values = e.value as GgufValue[];
      o.u32(e.elemType as number);
      o.u64(values.length);
      for (const v of values) writeValue(o, e.elemType as number, v);
    } else {
      writeValue(o, e.type, e.value);
    }
  }
  tensors.forEach((t, i) => {
    o.str(t.name);
    o.u32(t.dims.length);
    for (const d of t.dims) o.u64(d);
    o.u32(t.type);
    o.u64(offsets[i]);
  });
  tensors.forEach((t, i) => o.bytes.set(t.data, dataStart + offsets[i]));
  return o.bytes;
}
