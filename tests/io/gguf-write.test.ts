/**
 * The GGUF writer: a round trip through the reader (every metadata type, arrays, alignment,
 * tensor types), clear errors for bad input, and llama.cpp's view of what it writes: stories260K
 * rewritten in F32 is the same model to llama.cpp, and the Q8_0 / Q4_K_M files equal llama-quantize's
 * own tensor for tensor, byte for byte (types chosen per tensor included).
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GgufType, ggufTensorBytes, parseGguf } from '../../src/io/gguf.ts';
import { kv, writeGguf } from '../../src/io/gguf-write.ts';
import { encodeTensor, GGML_Q8_0 } from '../../src/io/ggml-quantize.ts';
import { GGML_BF16, GGML_F16, GGML_F32 } from '../../src/io/ggml-types.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { mergedGguf } from '../../src/train/gguf-files.ts';
import { disposeLlamaCpp, llamaCppNextTokenProbs } from '../helpers/llama-cpp.ts';

const DIR = new URL('../../../shared/data/models/', import.meta.url).pathname;
const read = (name: string) => new Uint8Array(readFileSync(DIR + name));

afterAll(disposeLlamaCpp);

describe('writeGguf', () => {
  it('round-trips every metadata type, arrays, the alignment and tensor types through the reader', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const meta = [
      kv.str('general.architecture', 'llama'),
      kv.u32('general.alignment', 64),
      kv.u8('t.u8', 255), kv.i8('t.i8', -128), kv.u16('t.u16', 65535), kv.i16('t.i16', -32768),
      kv.u32('t.u32', 4294967295), kv.i32('t.i32', -2147483648), kv.f32('t.f32', 0.5), kv.bool('t.bool', true),
      kv.u64('t.u64', 18446744073709551615n), kv.i64('t.i64', -5), kv.f64('t.f64', Math.PI),
      kv.str('t.utf8', 'grafting 接ぎ木 ▁x'),
      kv.array('t.strings', GgufType.STRING, ['a', '', 'ü']),
      kv.array('t.floats', GgufType.FLOAT32, [1.5, -2]),
      kv.array('t.ints', GgufType.INT32, [-1, 2, 3]),
      kv.array('t.empty', GgufType.UINT8, []),
    ];
    const tensors = [
      { name: 'a', dims: [64], type: GGML_F32, data: encodeTensor(values, 64, GGML_F32) },
      { name: 'b.weight', dims: [32, 2], type: GGML_F16, data: encodeTensor(values, 32, GGML_F16) },
      { name: 'c', dims: [16, 2, 2], type: GGML_BF16, data: encodeTensor(values, 16, GGML_BF16) },
      { name: 'd', dims: [32, 2], type: GGML_Q8_0, data: encodeTensor(values, 32, GGML_Q8_0) },
    ];
    const bytes = writeGguf(meta, tensors);
    const file = parseGguf(bytes, 'rt.gguf');
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(64);
    expect(file.dataOffset % 64).toBe(0);
    expect(Object.keys(file.metadata)).toEqual(meta.map((m) => m.key));
    for (const m of meta) {
      expect(file.metadataTypes[m.key], m.key).toBe(m.type);
      expect(file.metadata[m.key], m.key).toEqual(m.value);
    }
    expect(file.metadata['t.u64']).toBe(18446744073709551615n);
    tensors.forEach((t, i) => {
      const info = file.tensors[i];
      expect(info.name).toBe(t.name);
      expect(info.dims).toEqual(t.dims);
      expect(info.type).toBe(t.type);
      expect((info.offset - file.dataOffset) % 64).toBe(0);
      expect(Array.from(ggufTensorBytes(file, bytes, info))).toEqual(Array.from(t.data));
    });
  });

  it('refuses bad input with the tensor or key named', () => {
    const t = { name: 'blk.0.attn_q.weight', dims: [32, 2], type: GGML_F32, data: new Uint8Array(100) };
    expect(() => writeGguf([], [t])).toThrow(/blk\.0\.attn_q\.weight.*needs 256 bytes.*100/);
    expect(() => writeGguf([kv.u32('x', 1), kv.u32('x', 2)], [])).toThrow(/'x' is given twice/);
    expect(() => writeGguf([kv.u32('general.alignment', 48)], [])).toThrow(/power of two/);
    expect(() => writeGguf([kv.u8('k', 300)], [])).toThrow(/'k'.*\[0, 255\]/);
    expect(() => writeGguf([], [{ name: 'q', dims: [40], type: GGML_Q8_0, data: new Uint8Array(0) }])).toThrow(/'q'.*40 columns.*block size 32/);
  });
});

describe('llama.cpp reads what tsugiki writes', () => {
  const stories = { 'stories260K.gguf': read('stories260K.gguf') };
  const model = loadModelFiles(stories, 'stories260K.gguf');
  const out = mkdtempSync(join(tmpdir(), 'tsugiki-gguf-'));

  it('stories260K rewritten in F32 has the same tensor bytes and the same probabilities in llama.cpp', async () => {
    const bytes = mergedGguf(model, stories, null, { fileType: 'F32' });
    const ours = parseGguf(bytes, 'ours');
    const src = parseGguf(stories['stories260K.gguf'], 'src');
    expect(ours.tensors.length).toBe(src.tensors.length);
    for (const t of src.tensors) {
      const o = ours.tensors.find((x) => x.name === t.name);
      expect(o, t.name).toBeDefined();
      expect(o!.dims).toEqual(t.dims);
      expect(Buffer.compare(ggufTensorBytes(ours, bytes, o!), ggufTensorBytes(src, stories['stories260K.gguf'], t)), t.name).toBe(0);
    }
    const file = join(out, 'stories-f32.gguf');
    writeFileSync(file, bytes);
    const ids = [1, 403, 407, 262, 209, 3, 99, 310];
    const want = await llamaCppNextTokenProbs({ model: DIR + 'stories260K.gguf' }, ids);
    const got = await llamaCppNextTokenProbs({ model: file }, ids);
    for (let t = 0; t < ids.length; t++) expect(Array.from(got[t])).toEqual(Array.from(want[t]));
  });

  /** Our file's tensors against llama-quantize's: same names, types and bytes. */
  function sameAsLlamaQuantize(ours: Uint8Array, theirsName: string): void {
    const theirs = read(theirsName);
    const a = parseGguf(ours, 'ours');
    const b = parseGguf(theirs, theirsName);
    expect(a.tensors.map((t) => t.name).sort()).toEqual(b.tensors.map((t) => t.name).sort());
    for (const t of b.tensors) {
      const o = a.tensors.find((x) => x.name === t.name)!;
      expect(o.typeName, t.name).toBe(t.typeName);
      expect(Buffer.compare(ggufTensorBytes(a, ours, o), ggufTensorBytes(b, theirs, t)), t.name).toBe(0);
    }
    expect(a.metadata['general.file_type']).toBe(b.metadata['general.file_type']);
  }

  it('Q8_0 stories260K equals llama-quantize\'s file tensor for tensor (F16 where rows are 172 wide)', () => {
    sameAsLlamaQuantize(mergedGguf(model, stories, null, { fileType: 'Q8_0' }), 'quantized/stories260K-Q8_0.gguf');
  });

  it('Q4_K_M of the k256 model equals llama-quantize\'s mix (Q4_K, Q6_K on output, attn_v and ffn_down of layer 1)', () => {
    const k256 = { 'k256.gguf': read('quantized/k256-random-F32.gguf') };
    sameAsLlamaQuantize(mergedGguf(loadModelFiles(k256, 'k256.gguf'), k256, null, { fileType: 'Q4_K_M' }), 'quantized/k256-random-Q4_K_M.gguf');
  });
});
