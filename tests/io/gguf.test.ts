import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { FormatError } from '../../src/io/errors.ts';
import { elementCount, findGgufTensor, ggufTensorToF32, parseGguf, refuseUnsupportedTypes } from '../../src/io/gguf.ts';
import { ggufBool, ggufNumber, ggufNumberArray, ggufString, ggufStringArray, ggufValue } from '../../src/io/gguf-meta.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { buildGguf, type FixtureValue } from './gguf-fixture.ts';

const MODELS = new URL('../../../shared/data/models/', import.meta.url);
const stories = new Uint8Array(readFileSync(new URL('stories260K.gguf', MODELS)));
const legacy = new Uint8Array(readFileSync(new URL('stories260K-gguf-v1-legacy.gguf', MODELS)));

function errorOf(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError');
}

describe('stories260K.gguf (real GGUF v3 file)', () => {
  const file = parseGguf(stories, 'stories260K.gguf');

  it('reads the header and the llama hyper-parameters', () => {
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(32);
    expect(Object.keys(file.metadata)).toHaveLength(19);
    expect(ggufString(file, 'general.architecture')).toBe('llama');
    expect(ggufNumber(file, 'llama.embedding_length')).toBe(64);
    expect(ggufNumber(file, 'llama.block_count')).toBe(5);
    expect(ggufNumber(file, 'llama.attention.head_count')).toBe(8);
    expect(ggufNumber(file, 'llama.attention.head_count_kv')).toBe(4);
    expect(ggufNumber(file, 'llama.feed_forward_length')).toBe(172);
    expect(ggufNumber(file, 'llama.context_length')).toBe(2048);
    expect(ggufNumber(file, 'llama.attention.layer_norm_rms_epsilon')).toBe(Math.fround(1e-5));
    expect(ggufNumber(file, 'tokenizer.ggml.bos_token_id')).toBe(1);
    expect(ggufNumber(file, 'tokenizer.ggml.padding_token_id')).toBe(0xffffffff);
  });

  it('reads the 512-entry SentencePiece vocabulary arrays', () => {
    const tokens = ggufStringArray(file, 'tokenizer.ggml.tokens');
    expect(tokens).toHaveLength(512);
    expect(tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(ggufNumberArray(file, 'tokenizer.ggml.scores')).toHaveLength(512);
    const types = ggufNumberArray(file, 'tokenizer.ggml.token_type');
    expect(types).toHaveLength(512);
    expect(types.slice(0, 4)).toEqual([2, 3, 3, 6]); // unknown, control, control, byte
  });

  it('lists 48 tensors, 292,800 parameters, tiling the data section to the end of the file', () => {
    expect(file.tensors).toHaveLength(48);
    expect(file.tensors.reduce((n, t) => n + elementCount(t), 0)).toBe(292_800);
    const embd = findGgufTensor(file, 'token_embd.weight');
    expect(embd.dims).toEqual([64, 512]); // [C, V]: C varies fastest, i.e. HF [V, C]
    expect(embd.typeName).toBe('F32');
    expect(findGgufTensor(file, 'blk.0.attn_k.weight').dims).toEqual([64, 32]); // KV = 4 heads × D 8
    expect(findGgufTensor(file, 'blk.4.ffn_down.weight').dims).toEqual([172, 64]);
    expect(file.tensors[0].offset).toBe(file.dataOffset);
    const last = file.tensors[file.tensors.length - 1];
    expect(last.offset + last.byteLength).toBe(stories.length);
  });

  it('returns tensor data that the independent v1 container holds byte for byte', () => {
    const legacyBuf = Buffer.from(legacy.buffer, legacy.byteOffset, legacy.length);
    for (const name of ['token_embd.weight', 'blk.2.attn_q.weight', 'output.weight']) {
      const info = findGgufTensor(file, name);
      const values = ggufTensorToF32(file, stories, info);
      expect(values).toHaveLength(elementCount(info));
      expect(legacyBuf.indexOf(Buffer.from(values.buffer))).toBeGreaterThan(0);
    }
    const norm = ggufTensorToF32(file, stories, findGgufTensor(file, 'output_norm.weight'));
    expect(norm.every((v) => Number.isFinite(v) && Math.abs(v) < 100)).toBe(true);
  });

  it('names the key in metadata errors', () => {
    expect(errorOf(() => ggufNumber(file, 'general.architecture')).message).toMatch(/'general.architecture' should be a number but is string "llama"/);
    expect(errorOf(() => ggufString(file, 'llama.nope')).message).toMatch(/'llama.nope' \(a string\) is missing/);
    expect(ggufNumber(file, 'llama.nope', 7)).toBe(7);
  });
});

describe('refusals', () => {
  it('refuses GGUF v1 with a clear message', () => {
    expect(errorOf(() => parseGguf(legacy, 'old.gguf')).message).toMatch(/^old.gguf: this is GGUF version 1.*convert_hf_to_gguf.py/);
  });

  it('refuses big-endian files by name', () => {
    const be = stories.slice(0, 64);
    be.set([0, 0, 0, 3], 4);
    expect(errorOf(() => parseGguf(be)).message).toMatch(/big-endian GGUF file \(version 3 stored byte-swapped\)/);
  });

  it('refuses non-GGUF and pre-GGUF files', () => {
    expect(errorOf(() => parseGguf(new TextEncoder().encode('{"a": 1}........'))).message).toMatch(/starts with "\{\\"a\\"" instead of "GGUF"; this is not a GGUF file/);
    expect(errorOf(() => parseGguf(new TextEncoder().encode('tjggxxxxxxxxxxxxxxxxxxxxxxxx'))).message).toMatch(/old GGML\/GGJT model/);
  });
});

describe('hand-built files', () => {
  const h = (bits: number[]) => new Uint8Array(new Uint16Array(bits).buffer);
  const metadata: [string, FixtureValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.alignment', { type: 'u32', value: 64 }],
    ['t.u8', { type: 'u8', value: 255 }], ['t.i8', { type: 'i8', value: -128 }],
    ['t.u16', { type: 'u16', value: 65535 }], ['t.i16', { type: 'i16', value: -32768 }],
    ['t.i32', { type: 'i32', value: -5 }], ['t.f32', { type: 'f32', value: 0.5 }], ['t.f64', { type: 'f64', value: 0.1 }],
    ['t.u64', { type: 'u64', value: 2n ** 53n - 1n }], ['t.u64big', { type: 'u64', value: 2n ** 64n - 1n }],
    ['t.i64', { type: 'i64', value: -(2n ** 40n) }], ['t.bool', { type: 'bool', value: true }],
    ['t.nested', { type: 'array', elem: 'array', values: [
      { type: 'array', elem: 'i16', values: [{ type: 'i16', value: 1 }, { type: 'i16', value: -2 }] },
      { type: 'array', elem: 'string', values: [{ type: 'string', value: 'ä' }] },
    ] }],
  ];
  const bytes = buildGguf({
    version: 2,
    alignment: 64,
    metadata,
    tensors: [
      { name: 'a.f16', dims: [3], ggmlType: 1, data: h([0x3c00, 0xc000, 0x3800]) },
      { name: 'b.bf16', dims: [2, 1], ggmlType: 30, data: h([0x3f80, 0xc040]) },
      // A Q4_K block: d = 1, group 0 scale 1 (min 0), element 0's quant 1, element 32's quant 2 (group 1, scale 0).
      { name: 'blk.0.attn_q.weight', dims: [256, 1], ggmlType: 12, data: Uint8Array.from({ length: 144 }, (_, i) => ({ 1: 0x3c, 4: 1, 16: 0x21 })[i] ?? 0) },
      { name: 'blk.0.attn_k.weight', dims: [256, 1], ggmlType: 16, data: new Uint8Array(66) },
      { name: 'blk.1.attn_k.weight', dims: [256, 1], ggmlType: 16, data: new Uint8Array(66) },
      { name: 'blk.0.ffn_up.weight', dims: [256, 1], ggmlType: 34, data: new Uint8Array(54) },
    ],
  });

  it('reads every metadata value type, v2, a custom alignment and F16/BF16 tensors', () => {
    const f = parseGguf(bytes);
    expect(f.version).toBe(2);
    expect(f.alignment).toBe(64);
    expect(f.dataOffset % 64).toBe(0);
    expect(f.metadata).toMatchObject({
      't.u8': 255, 't.i8': -128, 't.u16': 65535, 't.i16': -32768, 't.i32': -5, 't.f32': 0.5, 't.f64': 0.1,
      't.u64': 2 ** 53 - 1, 't.u64big': 2n ** 64n - 1n, 't.i64': -(2 ** 40), 't.bool': true,
    });
    expect(ggufBool(f, 't.bool')).toBe(true);
    expect(ggufValue(f, 't.nested')).toEqual([[1, -2], ['ä']]);
    expect(() => ggufNumber(f, 't.u64big')).toThrow(/'t.u64big' should be a number but is uint64 18446744073709551615/);
    expect(Array.from(ggufTensorToF32(f, bytes, findGgufTensor(f, 'a.f16')))).toEqual([1, -2, 0.5]);
    expect(Array.from(ggufTensorToF32(f, bytes, findGgufTensor(f, 'b.bf16')))).toEqual([1, -3]);
    const q = findGgufTensor(f, 'blk.0.attn_q.weight');
    expect([q.typeName, q.byteLength]).toEqual(['Q4_K', 144]);
    const values = ggufTensorToF32(f, bytes, q);
    expect([values.length, values[0], values[1], values[32], values.reduce((a, b) => a + Math.abs(b), 0)]).toEqual([256, 1, 0, 0, 1]);
  });

  it('refuses types it does not read, naming them, their tensors and what to download', () => {
    const f = parseGguf(bytes);
    const started = performance.now();
    expect(errorOf(() => refuseUnsupportedTypes(f)).message).toBe(
      "model.gguf: holds 2 IQ2_XXS tensors ('blk.0.attn_k.weight', 'blk.1.attn_k.weight') and 1 TQ1_0 tensor ('blk.0.ffn_up.weight'), a type tsugiki does not read; it reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the K-quants Q2_K–Q6_K (the *_K_S, *_K_M and *_K_L files) — download a Q4_K_M or Q8_0 file of the same model",
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(errorOf(() => ggufTensorToF32(f, bytes, findGgufTensor(f, 'blk.0.ffn_up.weight'))).message).toBe(
      "model.gguf: tensor 'blk.0.ffn_up.weight' is TQ1_0, a type tsugiki does not read; download a Q4_K_M, Q8_0 or F16 file of the same model",
    );
  });

  it('refuses damaged layouts with what and where', () => {
    const one = (t: { dims: number[]; ggmlType: number; data: Uint8Array }, extra: [string, FixtureValue][] = []) =>
      buildGguf({ metadata: extra, tensors: [{ name: 'w', ...t }] });
    expect(errorOf(() => parseGguf(one({ dims: [31], ggmlType: 2, data: new Uint8Array(18) }))).message).toMatch(/'w' is Q4_0 with 31 columns, not a multiple of its block size 32/);
    expect(errorOf(() => parseGguf(one({ dims: [4], ggmlType: 99, data: new Uint8Array(4) }))).message).toMatch(/'w' has unknown ggml type id 99/);
    expect(errorOf(() => parseGguf(one({ dims: [1, 1, 1, 1, 1], ggmlType: 0, data: new Uint8Array(4) }))).message).toMatch(/'w' has 5 dimensions/);
    expect(errorOf(() => parseGguf(one({ dims: [4], ggmlType: 0, data: new Uint8Array(16) }, [['general.alignment', { type: 'u32', value: 24 }]]))).message).toMatch(/general.alignment is 24, not a power of two/);
    const truncated = one({ dims: [64], ggmlType: 0, data: new Uint8Array(256) });
    expect(errorOf(() => parseGguf(truncated.subarray(0, truncated.length - 10))).message).toMatch(/tensor 'w' needs bytes \d+ to \d+ but the file is \d+ bytes; it is truncated/);
    const dup = buildGguf({ metadata: [['k', { type: 'u8', value: 1 }], ['k', { type: 'u8', value: 2 }]], tensors: [] });
    expect(errorOf(() => parseGguf(dup)).message).toMatch(/'k' appears twice/);
  });
});

describe('quantized files that cannot load', () => {
  const q4 = new Uint8Array(readFileSync(new URL('../../../shared/data/models/quantized/stories260K-Q4_0.gguf', import.meta.url)));

  /** The file with every Q4_0 tensor relabelled IQ4_NL (same 18-byte blocks of 32): a type tsugiki does not read. */
  function relabelled(): Uint8Array {
    const out = q4.slice();
    const f = parseGguf(q4);
    const dv = new DataView(out.buffer);
    let at = f.dataOffset;
    for (const t of f.tensors) {
      if (t.typeName !== 'Q4_0') continue;
      // name (u64 length + bytes), n_dims u32, dims u64 × n, then the type u32.
      const name = new TextEncoder().encode(t.name);
      for (at = 24; at < f.dataOffset; at++) {
        if (dv.getUint32(at, true) === name.length && name.every((b, i) => out[at + 8 + i] === b)) break;
      }
      const typeAt = at + 8 + name.length + 4 + 8 * t.dims.length;
      expect(dv.getUint32(typeAt, true)).toBe(2);
      dv.setUint32(typeAt, 20, true);
    }
    return out;
  }

  it('an IQ4_NL model is refused in under a second, naming the type, the first tensors and the count', () => {
    const bytes = relabelled();
    const started = performance.now();
    const message = errorOf(() => loadModelFiles({ 'model.gguf': bytes }, 'model.gguf')).message;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(message).toBe(
      "model.gguf: holds 31 IQ4_NL tensors ('token_embd.weight', 'blk.0.attn_k.weight', 'blk.0.attn_output.weight', …), a type tsugiki does not read; it reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the K-quants Q2_K–Q6_K (the *_K_S, *_K_M and *_K_L files) — download a Q4_K_M or Q8_0 file of the same model",
    );
  });

  it('an ollama blob (a GGUF file named sha256-… without the extension) loads as GGUF', () => {
    const model = loadModelFiles({ 'sha256-6a1ad2b0d7c4': q4 }, 'blobs');
    expect([model.format, model.source, model.weights.info('model.layers.0.self_attn.q_proj.weight').dtype]).toEqual(['gguf', 'sha256-6a1ad2b0d7c4.gguf', 'q4_0']);
    expect(() => loadModelFiles({ 'sha256-00': new Uint8Array(64) }, 'blobs')).toThrow(/config.json/);
  });

  it('truncated block data names the tensor', () => {
    const cut = q4.subarray(0, q4.length - 1000);
    expect(errorOf(() => loadModelFiles({ 'model.gguf': cut }, 'model.gguf')).message).toMatch(/^model.gguf: tensor '[a-z0-9_.]+' needs bytes \d+ to \d+ but the file is \d+ bytes; it is truncated \(download it again\)$/);
  });
});
