/**
 * A small GGUF writer for tests, written from the spec (ggml-org/ggml docs/gguf.md) independently
 * of the reader: it builds files with every metadata value type and chosen tensor types.
 */

export type FixtureValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; elem: FixtureValue['type']; values: FixtureValue[] };

export interface FixtureTensor {
  name: string;
  dims: number[];
  ggmlType: number;
  data: Uint8Array;
}

const TYPE_IDS = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

class Writer {
  private chunks: number[] = [];
  get length() {
    return this.chunks.length;
  }
  bytes(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]);
  }
  num(n: number | bigint, size: number, kind: 'u' | 'i' | 'f') {
    const dv = new DataView(new ArrayBuffer(size));
    if (kind === 'f') size === 4 ? dv.setFloat32(0, Number(n), true) : dv.setFloat64(0, Number(n), true);
    else if (size === 8) kind === 'u' ? dv.setBigUint64(0, BigInt(n), true) : dv.setBigInt64(0, BigInt(n), true);
    else if (size === 4) kind === 'u' ? dv.setUint32(0, Number(n), true) : dv.setInt32(0, Number(n), true);
    else if (size === 2) kind === 'u' ? dv.setUint16(0, Number(n), true) : dv.setInt16(0, Number(n), true);
    else kind === 'u' ? dv.setUint8(0, Number(n)) : dv.setInt8(0, Number(n));
    this.bytes(new Uint8Array(dv.buffer));
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.num(b.length, 8, 'u');
    this.bytes(b);
  }
  value(v: FixtureValue) {
    switch (v.type) {
      case 'u8': case 'u16': case 'u32': this.num(v.value, { u8: 1, u16: 2, u32: 4 }[v.type], 'u'); break;
      case 'i8': case 'i16': case 'i32': this.num(v.value, { i8: 1, i16: 2, i32: 4 }[v.type], 'i'); break;
      case 'f32': this.num(v.value, 4, 'f'); break;
      case 'f64': this.num(v.value, 8, 'f'); break;
      case 'u64': this.num(v.value, 8, 'u'); break;
      case 'i64': this.num(v.value, 8, 'i'); break;
      case 'bool': this.num(v.value ? 1 : 0, 1, 'u'); break;
      case 'string': this.str(v.value); break;
      case 'array':
        this.num(TYPE_IDS[v.elem], 4, 'u');
        this.num(v.values.length, 8, 'u');
        for (const x of v.values) this.value(x);
        break;
    }
  }
  pad(alignment: number) {
    while (this.chunks.length % alignment !== 0) this.chunks.push(0);
  }
  result() {
    return Uint8Array.from(this.chunks);
  }
}

export function buildGguf(opts: { version?: number; metadata: [string, FixtureValue][]; tensors: FixtureTensor[]; alignment?: number }): Uint8Array {
  const alignment = opts.alignment ?? 32;
  const w = new Writer();
  w.bytes([0x47, 0x47, 0x55, 0x46]);
  w.num(opts.version ?? 3, 4, 'u');
  w.num(opts.tensors.length, 8, 'u');
  w.num(opts.metadata.length, 8, 'u');
  for (const [key, v] of opts.metadata) {
    w.str(key);
    w.num(TYPE_IDS[v.type], 4, 'u');
    w.value(v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of opts.tensors) {
    w.str(t.name);
    w.num(t.dims.length, 4, 'u');
    for (const d of t.dims) w.num(d, 8, 'u');
    w.num(t.ggmlType, 4, 'u');
    w.num(offset, 8, 'u');
    offsets.push(offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  w.pad(alignment);
  for (const t of opts.tensors) {
    w.bytes(t.data);
    w.pad(alignment);
  }
  return w.result();
}
