import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { FormatError } from '../../src/io/errors.ts';
import { ggufTensorToF32, isReadableType, parseGguf } from '../../src/io/gguf.ts';
import { parseSafetensors, tensorToF32, writeSafetensors, type SafeTensorInput } from '../../src/io/safetensors.ts';
import { buildGguf, type FixtureValue } from './gguf-fixture.ts';

const stories = new Uint8Array(readFileSync(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url)));
const quantized = new Uint8Array(readFileSync(new URL('../../../shared/data/models/quantized/k256-random-Q4_K_M.gguf', import.meta.url)));
const RUNS = { seed: 20240611, numRuns: 300 };

/** Runs a reader on hostile bytes: it may succeed or throw a FormatError, nothing else. */
function onlyFormatErrors(read: () => void): void {
  try {
    read();
  } catch (e) {
    if (!(e instanceof FormatError)) throw new Error(`leaked ${(e as Error).name}: ${(e as Error).message}`);
    expect(e.message.length).toBeGreaterThan(20);
  }
}

function readAllGguf(bytes: Uint8Array): void {
  const f = parseGguf(bytes, 'fuzz.gguf');
  for (const t of f.tensors) {
    if (isReadableType(t.type)) ggufTensorToF32(f, bytes, t); // float and quantized (dequantized)
  }
}

function readAllSafetensors(bytes: Uint8Array): void {
  const f = parseSafetensors(bytes, 'fuzz.safetensors');
  for (const t of f.tensors) tensorToF32(f, bytes, t.name);
}

const mutations = fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 });

function mutate(base: Uint8Array, region: number, edits: { at: number; value: number }[]): Uint8Array {
  const copy = base.slice();
  for (const { at, value } of edits) copy[at % region] = value;
  return copy;
}

const fixtureGguf = buildGguf({
  metadata: [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['a', { type: 'array', elem: 'array', values: [{ type: 'array', elem: 'u64', values: [{ type: 'u64', value: 7n }] }] }],
    ['b', { type: 'array', elem: 'f32', values: [{ type: 'f32', value: 1 }, { type: 'f32', value: 2 }] }],
    ['c', { type: 'bool', value: false }],
  ],
  tensors: [
    { name: 'x', dims: [2, 2], ggmlType: 1, data: new Uint8Array(8) },
    { name: 'y', dims: [32], ggmlType: 8, data: new Uint8Array(34) },
  ],
});

describe('GGUF reader on hostile input', () => {
  it('survives every truncation of a real file and of a hand-built one', () => {
    fc.assert(fc.property(fc.nat({ max: 20_000 }), (cut) => onlyFormatErrors(() => readAllGguf(stories.subarray(0, cut)))), RUNS);
    for (let cut = 0; cut < fixtureGguf.length; cut++) onlyFormatErrors(() => readAllGguf(fixtureGguf.subarray(0, cut)));
  });

  it('survives random byte mutations of the header and metadata', () => {
    fc.assert(fc.property(mutations, (edits) => onlyFormatErrors(() => readAllGguf(mutate(stories, 14_176, edits)))), RUNS);
    fc.assert(fc.property(mutations, (edits) => onlyFormatErrors(() => readAllGguf(mutate(fixtureGguf, fixtureGguf.length, edits)))), RUNS);
  });

  it('survives mutations and truncations of a quantized file (tensor types, dims, block data)', () => {
    const header = parseGguf(quantized).dataOffset;
    fc.assert(fc.property(mutations, (edits) => onlyFormatErrors(() => readAllGguf(mutate(quantized, header, edits)))), { ...RUNS, numRuns: 100 });
    fc.assert(fc.property(fc.nat({ max: quantized.length }), (cut) => onlyFormatErrors(() => readAllGguf(quantized.subarray(0, cut)))), { ...RUNS, numRuns: 30 });
  });

  it('survives random bytes after a valid magic and version', () => {
    const body = fc.uint8Array({ minLength: 0, maxLength: 512 });
    fc.assert(fc.property(body, (rest) => onlyFormatErrors(() => readAllGguf(Uint8Array.from([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, ...rest])))), RUNS);
    fc.assert(fc.property(body, (rest) => onlyFormatErrors(() => readAllGguf(rest))), RUNS);
  });

  it('refuses lengths and counts of 2^60 before allocating anything', () => {
    const header = (tensors: bigint, kvs: bigint) => {
      const b = new Uint8Array(24);
      const dv = new DataView(b.buffer);
      b.set([0x47, 0x47, 0x55, 0x46, 3]);
      dv.setBigUint64(8, tensors, true);
      dv.setBigUint64(16, kvs, true);
      return b;
    };
    const withKv = (tail: number[]) => Uint8Array.from([...header(0n, 1n), ...tail, ...new Array(32).fill(0)]);
    const u64 = (v: bigint) => Array.from(new Uint8Array(new BigUint64Array([v]).buffer));
    const cases: [Uint8Array, RegExp][] = [
      [header(2n ** 60n, 0n), /the tensor count at byte 8 is 1152921504606846976, far larger than any real file/],
      [header(2n ** 40n, 0n), /the tensor count at byte 8 is 1099511627776, but only 8 bytes remain/],
      [header(0n, 2n ** 40n), /the metadata count at byte 16 is 1099511627776, but only 0 bytes remain/],
      [withKv(u64(2n ** 60n)), /the length of metadata key #0 at byte 24 is 1152921504606846976/],
      [withKv([...u64(1n), 0x6b, 8, 0, 0, 0, ...u64(2n ** 60n)]), /the length of metadata 'k' at byte 37 is 1152921504606846976, far larger/],
      [withKv([...u64(1n), 0x6b, 8, 0, 0, 0, ...u64(2n ** 40n)]), /the length of metadata 'k' at byte 37 is 1099511627776, but only 32 bytes remain/],
      [withKv([...u64(1n), 0x6b, 9, 0, 0, 0, 0, 0, 0, 0, ...u64(2n ** 60n)]), /the length of metadata 'k' at byte 41 is 1152921504606846976/],
      [withKv([...u64(1n), 0x6b, 9, 0, 0, 0, 9, 0, 0, 0, ...u64(2n ** 40n)]), /each item needs at least 12/],
      [withKv([...u64(1n), 0x6b, 8, 0, 0, 0, ...u64(2n ** 63n + 5n)]), /far larger than any real file/],
    ];
    for (const [bytes, pattern] of cases) {
      const start = performance.now();
      expect(() => parseGguf(bytes)).toThrow(pattern);
      expect(performance.now() - start).toBeLessThan(50); // ms: nothing was attempted
    }
  });

  it('round-trips randomly generated metadata exactly', () => {
    const scalar: fc.Arbitrary<[FixtureValue, unknown]> = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((v) => [{ type: 'u8', value: v }, v] as [FixtureValue, unknown]),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => [{ type: 'i32', value: v }, v] as [FixtureValue, unknown]),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => [{ type: 'u64', value: v }, v <= 2n ** 53n - 1n ? Number(v) : v] as [FixtureValue, unknown]),
      fc.double({ noNaN: true }).map((v) => [{ type: 'f64', value: v }, v] as [FixtureValue, unknown]),
      fc.float({ noNaN: true }).map((v) => [{ type: 'f32', value: v }, v] as [FixtureValue, unknown]),
      fc.boolean().map((v) => [{ type: 'bool', value: v }, v] as [FixtureValue, unknown]),
      fc.string({ unit: 'grapheme', maxLength: 12 }).map((v) => [{ type: 'string', value: v }, v] as [FixtureValue, unknown]),
    );
    const entries = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), scalar), { maxLength: 8, selector: ([k]) => k });
    fc.assert(fc.property(entries, (kvs) => {
      const f = parseGguf(buildGguf({ metadata: kvs.map(([k, [v]]) => [k, v]), tensors: [] }));
      for (const [k, [, expected]] of kvs) expect(Object.is(f.metadata[k], expected) || f.metadata[k] === expected).toBe(true);
    }), { seed: 7, numRuns: 200 });
  });
});

describe('safetensors reader on hostile input', () => {
  const sample = writeSafetensors([
    { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    { name: 'model.norm.weight', dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0x4000]) },
    { name: 'lm_head.weight', dtype: 'F16', shape: [1, 2], data: new Uint16Array([0x3c00, 0x4000]) },
  ], { format: 'pt' });

  it('survives every truncation and random byte mutations', () => {
    for (let cut = 0; cut < sample.length; cut++) onlyFormatErrors(() => readAllSafetensors(sample.subarray(0, cut)));
    fc.assert(fc.property(mutations, (edits) => onlyFormatErrors(() => readAllSafetensors(mutate(sample, sample.length, edits)))), RUNS);
  });

  it('survives random bytes and random JSON headers', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => onlyFormatErrors(() => readAllSafetensors(b))), RUNS);
    const entry = fc.record({ dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'F8_E4M3', 'Q9'), fc.jsonValue()), shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 2 ** 40 }), { maxLength: 4 }), fc.jsonValue()), data_offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), fc.jsonValue()) });
    const header = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__metadata__')), fc.oneof(entry, fc.jsonValue()), { maxKeys: 5 });
    fc.assert(fc.property(header, fc.nat(64), (h, dataLen) => {
      const json = new TextEncoder().encode(JSON.stringify(h));
      const bytes = new Uint8Array(8 + json.length + dataLen);
      new DataView(bytes.buffer).setUint32(0, json.length, true);
      bytes.set(json, 8);
      onlyFormatErrors(() => readAllSafetensors(bytes));
    }), RUNS);
  });

  it('round-trips random tensors through the writer', () => {
    const tensor = fc.record({
      name: fc.string({ minLength: 1, maxLength: 8 }).filter((n) => n !== '__metadata__'),
      dtype: fc.constantFrom('F32' as const, 'F16' as const, 'BF16' as const),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    });
    fc.assert(fc.property(fc.uniqueArray(tensor, { maxLength: 6, selector: (t) => t.name }), (specs) => {
      const inputs: SafeTensorInput[] = specs.map((s, i) => {
        const n = s.shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, j) => (i + 1) * (j - 2));
        // Small integers are exact in all three formats: F16/BF16 patterns come from their definitions.
        const toHalf = (v: number, bits: number) => (v === 0 ? 0 : (v < 0 ? 0x8000 : 0) | halfBits(Math.abs(v), bits));
        const data = s.dtype === 'F32' ? new Float32Array(values) : Uint16Array.from(values, (v) => toHalf(v, s.dtype === 'F16' ? 10 : 7));
        return { ...s, data, values } as SafeTensorInput & { values: number[] };
      });
      const bytes = writeSafetensors(inputs);
      const f = parseSafetensors(bytes);
      expect(f.tensors.map((t) => t.name).sort()).toEqual(inputs.map((t) => t.name).sort());
      for (const t of inputs as (SafeTensorInput & { values: number[] })[]) {
        expect(Array.from(tensorToF32(f, bytes, t.name))).toEqual(t.values);
        const info = f.tensors.find((x) => x.name === t.name)!;
        expect(info.begin % (t.dtype === 'F32' ? 4 : 2)).toBe(0);
      }
    }), { seed: 11, numRuns: 200 });
  });
});

/** Bit pattern of a positive integer v < 2^11 in a 16-bit float with `mantBits` mantissa bits. */
function halfBits(v: number, mantBits: number): number {
  const e = Math.floor(Math.log2(v));
  const bias = mantBits === 10 ? 15 : 127;
  return ((e + bias) << mantBits) | ((v / 2 ** e - 1) * 2 ** mantBits);
}
