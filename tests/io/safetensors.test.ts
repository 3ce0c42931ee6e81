import { describe, it, expect } from 'vitest';
import { FormatError } from '../../src/io/errors.ts';
import { parseSafetensors, tensorBytes, tensorToF32, writeSafetensors } from '../../src/io/safetensors.ts';
import { parseShardIndex } from '../../src/io/safetensors-index.ts';

/** Builds a file from a literal header string and data bytes, the way a foreign writer might. */
function rawFile(header: string, data: number[] | Uint8Array = []): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function errorOf(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError');
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('writeSafetensors matches the reference writer byte for byte', () => {
  // Expected bytes are the test vectors of huggingface/safetensors safetensors/src/tensor.rs.
  it('test_serialization: one F32 tensor, header exactly 64 bytes', () => {
    const out = writeSafetensors([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }]);
    expect(Array.from(out)).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34,
      70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95,
      111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0,
      64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('test_serialization_forced_alignement: header padded with spaces to 72 bytes', () => {
    const out = writeSafetensors([{ name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }]);
    expect(Array.from(out.subarray(0, 8))).toEqual([72, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(out.subarray(8, 80))).toBe(
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ',
    );
    expect(Array.from(out.subarray(80, 84))).toEqual([0, 0, 0, 0]);
    expect(out.length).toBe(8 + 72 + 24);
  });

  it('test_empty: no tensors, with and without metadata', () => {
    expect(Array.from(writeSafetensors([]))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(writeSafetensors([], { framework: 'pt' }))).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114,
      97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  it('orders tensors by descending dtype alignment, then name (F32, BF16, F16)', () => {
    const out = writeSafetensors([
      { name: 'a.f16', dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
      { name: 'z.f32', dtype: 'F32', shape: [1], data: new Float32Array([2]) },
      { name: 'b.bf16', dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0x4000, 0xc040]) },
      { name: 'a.f32', dtype: 'F32', shape: [2], data: new Float32Array([5, 6]) },
    ]);
    const file = parseSafetensors(out);
    expect(file.tensors.map((t) => t.name)).toEqual(['a.f32', 'z.f32', 'b.bf16', 'a.f16']);
    expect(file.tensors.map((t) => t.begin - file.tensors[0].begin)).toEqual([0, 8, 12, 18]);
    expect(file.tensors[0].begin % 8).toBe(0);
    expect(Array.from(tensorToF32(file, out, 'b.bf16'))).toEqual([1, 2, -3]);
    expect(Array.from(tensorToF32(file, out, 'a.f16'))).toEqual([1]);
    expect(Array.from(tensorToF32(file, out, 'a.f32'))).toEqual([5, 6]);
  });

  it('refuses bad writer input with a message naming the tensor', () => {
    expect(() => writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/'w' has shape \[2, 2\] \(4 values\) but 3/);
    expect(() => writeSafetensors([{ name: 'w', dtype: 'F16', shape: [1], data: new Float32Array(1) }])).toThrow(/Uint16Array/);
  });
});

describe('parseSafetensors', () => {
  it('reads a header in any key order, with metadata, and returns absolute offsets', () => {
    const header = '{"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"__metadata__":{"format":"pt","__proto__":"x"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const data = [...f32Bytes([1.5, -2]), 0x00, 0x3c, 0x00, 0xc0];
    const bytes = rawFile(header, data);
    const file = parseSafetensors(bytes, 'x.safetensors');
    const n = new TextEncoder().encode(header).length;
    expect(file.metadata.format).toBe('pt');
    expect(Object.keys(file.metadata)).toEqual(['format', '__proto__']);
    expect(file.tensors).toEqual([
      { name: 'a', dtype: 'F32', shape: [2], begin: 8 + n, end: 16 + n },
      { name: 'b', dtype: 'F16', shape: [2], begin: 16 + n, end: 20 + n },
    ]);
    expect(Array.from(tensorToF32(file, bytes, 'a'))).toEqual([1.5, -2]);
    expect(Array.from(tensorToF32(file, bytes, 'b'))).toEqual([1, -2]);
    expect(Array.from(tensorBytes(file, bytes, 'b'))).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect(errorOf(() => tensorBytes(file, bytes, 'c')).message).toMatch(/no tensor 'c' \(the file has 2 tensors, e.g. 'a', 'b'\)/);
  });

  it('accepts zero-sized and scalar tensors', () => {
    const header = '{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"BF16","shape":[0,3],"data_offsets":[4,4]}}';
    const file = parseSafetensors(rawFile(header, f32Bytes([7])));
    expect(file.tensors.map((t) => [t.name, t.end - t.begin])).toEqual([['s', 4], ['e', 0]]);
  });

  it('refuses other dtypes by name', () => {
    const header = '{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}';
    expect(errorOf(() => parseSafetensors(rawFile(header, new Uint8Array(8)))).message).toBe(
      "model.safetensors: tensor 'x' has dtype I64; tsugiki reads F32, F16 and BF16",
    );
    const bad = '{"x":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}}';
    expect(errorOf(() => parseSafetensors(rawFile(bad, [0]))).message).toMatch(/dtype Q9 \(not a safetensors dtype\)/);
  });

  it('refuses broken layouts with a message that says what and where', () => {
    const cases: [string, number, RegExp][] = [
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8, /'a' has data_offsets \[4, 8\] but the previous tensor ends at 0/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', 8, /'b' has data_offsets \[2, 6\]/],
      ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4, /needs 8 bytes but its data_offsets \[0, 4\] span 4/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 6, /cover 4 bytes of data but the file has 6.*trailing/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 2, /cover 4 bytes of data but the file has 2.*truncated/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}', 4, /two non-negative integers below 2\^53/],
      ['{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4, /"shape" that is not a list/],
      ['{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', 4, /too large to address/],
      ['{"__metadata__":{"n":1}}', 0, /"__metadata__" must map strings to strings/],
      ['[1,2]', 0, /not an object of tensors/],
      ['{"a":', 0, /not valid JSON/],
    ];
    for (const [header, dataLen, pattern] of cases) {
      expect(errorOf(() => parseSafetensors(rawFile(header, new Uint8Array(dataLen)))).message).toMatch(pattern);
    }
  });

  it('refuses short files, huge header lengths and invalid UTF-8', () => {
    expect(errorOf(() => parseSafetensors(new Uint8Array(5))).message).toMatch(/5 bytes, too short/);
    const huge = new Uint8Array(16);
    huge[7] = 0x10;
    expect(errorOf(() => parseSafetensors(huge)).message).toMatch(/over the 100,000,000-byte limit/);
    const truncated = rawFile('{}      ').subarray(0, 12);
    expect(errorOf(() => parseSafetensors(truncated)).message).toMatch(/header is 8 bytes but only 4 follow/);
    const badUtf8 = rawFile('{}      ');
    badUtf8[10] = 0xff;
    expect(errorOf(() => parseSafetensors(badUtf8)).message).toMatch(/not valid UTF-8/);
  });
});

describe('parseShardIndex', () => {
  it('reads the weight map and lists the shards', () => {
    const idx = parseShardIndex(JSON.stringify({
      metadata: { total_size: 24 },
      weight_map: { 'b.weight': 'model-00002-of-00002.safetensors', 'a.weight': 'model-00001-of-00002.safetensors', 'c.bias': 'model-00001-of-00002.safetensors' },
    }));
    expect(idx.shards).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(idx.weightMap['b.weight']).toBe('model-00002-of-00002.safetensors');
    expect(idx.metadata.total_size).toBe(24);
  });

  it('refuses malformed indexes and paths outside the model folder', () => {
    expect(() => parseShardIndex('{', 'i.json')).toThrow(/i.json: is not valid JSON/);
    expect(() => parseShardIndex({ metadata: {} })).toThrow(/no "weight_map"/);
    expect(() => parseShardIndex({ weight_map: {} })).toThrow(/is empty/);
    expect(() => parseShardIndex({ weight_map: { a: 7 } })).toThrow(/'a' must name a .safetensors file/);
    expect(() => parseShardIndex({ weight_map: { a: '../x.safetensors' } })).toThrow(/not a relative path inside/);
    expect(() => parseShardIndex({ weight_map: { a: '/etc/x.safetensors' } })).toThrow(/not a relative path inside/);
  });
});
