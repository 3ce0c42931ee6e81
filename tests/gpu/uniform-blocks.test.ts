import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { Recorder } from '../../src/gpu/recorder.ts';
import { isUniformBlock, uniformBlock, type UniformBlock } from '../../src/gpu/uniform-block.ts';
import { MATMUL_PARAMS } from '../../src/kernels/matmul.ts';
import { differences, integerConstants, uniformStructs, type WgslField } from '../helpers/wgsl-uniform-structs.ts';

// The uniform blocks declared in TS against the structs the shaders bind as var<uniform>: the two
// sides must agree field by field (name, order, WGSL type), or a dispatch writes one field's
// value into another's place without any error.

const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));
const SOURCES = new Map(
  readdirSync(SHADER_DIR)
    .filter((f) => f.endsWith('.wgsl'))
    .sort()
    .map((f) => [f.replace(/\.wgsl$/, ''), readFileSync(SHADER_DIR + f, 'utf8')] as const),
);

/** Integer constants visible to a shader's struct: its own and common.wgsl's. */
function constantsFor(code: string) {
  return integerConstants([SOURCES.get('common') ?? '', code]);
}

function structsOf(file: string, code: string) {
  return uniformStructs(`${file}.wgsl`, code, constantsFor(code));
}

/** Every UniformBlock exported by a kernel module (and the benchmark's FMA kernel). */
const MODULES = import.meta.glob(['../../src/kernels/*.ts', '../../bench/peak.ts'], { eager: true });
const DECLARED = Object.entries(MODULES).flatMap(([path, exports]) =>
  Object.entries(exports as Record<string, unknown>)
    .filter((e): e is [string, UniformBlock] => isUniformBlock(e[1]))
    .map(([name, block]) => ({ where: `${path.replace(/^(\.\.\/)+/, '')} ${name}`, block })),
);

/** The fields of `struct` bound as var<uniform> in one shader source. */
function parsedStruct(file: string, code: string, struct: string): WgslField[] {
  const s = structsOf(file, code).find((u) => u.struct === struct);
  if (!s) throw new Error(`${file}.wgsl binds no var<uniform> of struct ${struct}.`);
  return s.fields;
}

describe('uniform blocks match their shaders', () => {
  it('finds uniform structs in the shaders and declarations in the kernels', () => {
    const bound = [...SOURCES].flatMap(([file, code]) => structsOf(file, code));
    expect(bound.length).toBeGreaterThanOrEqual(20);
    expect(DECLARED.length).toBeGreaterThanOrEqual(20);
    expect(DECLARED.map((d) => d.block)).toContain(MATMUL_PARAMS);
  });

  it('declares every struct a shader binds as var<uniform> exactly once, identical field by field', () => {
    const problems: string[] = [];
    for (const [file, code] of SOURCES) {
      for (const u of structsOf(file, code)) {
        const where = `shaders/${file}.wgsl struct ${u.struct} (var<uniform> ${u.variable})`;
        if (u.binding !== 0) problems.push(`${where}: bound at ${u.binding}; the recorder binds uniforms at 0.`);
        const mine = DECLARED.filter((d) => d.block.shader === file && d.block.struct === u.struct);
        if (mine.length !== 1) {
          const found = mine.length === 0 ? 'none' : mine.map((d) => d.where).join(', ');
          problems.push(`${where}: ${mine.length} declarations (${found}); declare it once with uniformBlock('${file}', '${u.struct}', { … }) in its kernel module.`);
          continue;
        }
        for (const d of differences(mine[0].block, u.fields)) problems.push(`${where} vs ${mine[0].where}: ${d}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names, for every declaration, a shader file that binds that struct as var<uniform>', () => {
    const problems: string[] = [];
    for (const { where, block } of DECLARED) {
      const code = SOURCES.get(block.shader);
      if (code === undefined) problems.push(`${where}: there is no shaders/${block.shader}.wgsl.`);
      else if (!structsOf(block.shader, code).some((u) => u.struct === block.struct)) {
        problems.push(`${where}: shaders/${block.shader}.wgsl binds no var<uniform> of struct ${block.struct}.`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the comparison fails when either side changes', () => {
  const file = 'matmul_common';
  const code = SOURCES.get(file)!;
  const alter = (from: string, to: string) => {
    expect(code).toContain(from);
    return code.replace(from, to);
  };

  it('reports an altered copy of a shader struct as different', () => {
    expect(differences(MATMUL_PARAMS, parsedStruct(file, code, 'Params'))).toEqual([]);
    const altered = {
      renamed: alter('k_chunk: u32', 'kchunk: u32'),
      reordered: alter('m: u32, n: u32', 'n: u32, m: u32'),
      retyped: alter('alpha: f32', 'alpha: u32'),
      missing: alter(' _p2: u32,', ''),
      added: alter('_p2: u32,', '_p2: u32, extra: u32,'),
      vector: alter('alpha: f32', 'alpha: vec2f'),
    };
    for (const [change, text] of Object.entries(altered)) {
      expect(differences(MATMUL_PARAMS, parsedStruct(file, text, 'Params')), change).not.toEqual([]);
    }
    expect(differences(MATMUL_PARAMS, parsedStruct(file, altered.retyped, 'Params'))).toEqual([
      'field 11: the shader has alpha: u32, the declaration alpha: f32',
    ]);
  });

  it('reports an altered declaration as different', () => {
    const wgsl = parsedStruct(file, code, 'Params');
    const fields = Object.fromEntries(MATMUL_PARAMS.fields.map((f) => [f.name, f.type]));
    const { lda, ...withoutLda } = fields;
    const variants = {
      renamed: { ...withoutLda, lda_: lda },
      reordered: { n: fields.n, ...fields },
      retyped: { ...fields, alpha: 'u32' as const },
      missing: withoutLda,
      added: { ...fields, extra: 'u32' as const },
    };
    for (const [change, f] of Object.entries(variants)) {
      expect(differences(uniformBlock(file, 'Params', f), wgsl), change).not.toEqual([]);
    }
  });

  it('reads vector spellings, array lengths from constants, and comments like the compiler', () => {
    const text = `
      const N: u32 = 8u;
      struct Params {
        a: vec4<f32>,   // a comment, with a comma
        /* b: u32, */ c: vec2<u32>,
        d: array<vec4<i32>, N / 4u + 1u>,
      }
      @group(0) @binding(0) var<uniform> q: Params;`;
    const [s] = uniformStructs('inline.wgsl', text, integerConstants([text]));
    expect(s).toEqual({
      variable: 'q',
      binding: 0,
      struct: 'Params',
      fields: [
        { name: 'a', type: 'vec4f' },
        { name: 'c', type: 'vec2u' },
        { name: 'd', type: 'array<vec4i, 3>' },
      ],
    });
  });
});

describe('uniformBlock layout and packing', () => {
  it('lays fields out by the uniform address space rules and packs them there', () => {
    const block = uniformBlock('inline', 'P', { a: 'u32', v: 'vec3f', b: 'f32', w: 'vec2u', arr: 'array<vec4i, 2>', z: 'i32' });
    // vec3 aligns to 16 (size 12), vec2 to 8, arrays of 16-byte elements to 16; the struct to 16.
    expect(block.fields.map((f) => [f.name, f.offset])).toEqual([['a', 0], ['v', 16], ['b', 28], ['w', 32], ['arr', 48], ['z', 80]]);
    expect([block.size, block.bytes]).toEqual([96, 96]);
    const { bytes } = block.pack({ a: 7, v: [0.5, 1.5, 2.5], b: -3, w: [9, 10], arr: [-1, 2, -3, 4, 5], z: -6 });
    const u = new Uint32Array(bytes);
    const i = new Int32Array(bytes);
    const f = new Float32Array(bytes);
    expect([u[0], f[4], f[5], f[6], f[7], u[8], u[9]]).toEqual([7, 0.5, 1.5, 2.5, -3, 9, 10]);
    expect([...i.subarray(12, 20)]).toEqual([-1, 2, -3, 4, 5, 0, 0, 0]);
    expect(i[20]).toBe(-6);
    expect(u.length - 21).toBe(3); // padding to the struct's 16-byte alignment stays zero
    expect([...u.subarray(1, 4), ...u.subarray(21)].every((x) => x === 0)).toBe(true);
  });

  it('packs the matmul block in the shader order, rounded to 16 bytes, padding zero', () => {
    const names = MATMUL_PARAMS.fields.filter((f) => !f.padding).map((f) => f.name);
    const values = Object.fromEntries(names.map((n, k) => [n, k + 1])) as Parameters<typeof MATMUL_PARAMS.pack>[0];
    const packed = MATMUL_PARAMS.pack(values);
    expect(packed.block).toBe(MATMUL_PARAMS);
    expect(packed.bytes.byteLength).toBe(80);
    const u = new Uint32Array(packed.bytes);
    const f = new Float32Array(packed.bytes);
    expect(names.map((n, k) => (MATMUL_PARAMS.fields[k].scalar === 'f32' ? f[k] : u[k]))).toEqual(names.map((_, k) => k + 1));
    expect(u[19]).toBe(0);
    // A one-field block still takes the 16 bytes a uniform binding needs.
    expect(uniformBlock('inline', 'P', { n: 'u32' }).bytes).toBe(16);
  });

  it('refuses bad values with the block and field named', () => {
    const block = uniformBlock('inline', 'P', { n: 'u32', s: 'i32', x: 'f32', v: 'vec2f', arr: 'array<vec4u, 1>', _pad: 'u32' });
    const good = { n: 1, s: -1, x: 0.5, v: [1, 2], arr: [1] };
    expect(() => block.pack(good)).not.toThrow();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ n: undefined }, /inline\.wgsl P: field 'n' \(u32\) is missing/],
      [{ extra: 1 }, /inline\.wgsl P has no field 'extra' \(its fields: n, s, x, v, arr\)/],
      [{ _pad: 0 }, /'_pad' is padding/],
      [{ n: -1 }, /inline\.wgsl P: field 'n' = -1 must be in \[0, 2\^32\) \(u32\)/],
      [{ n: 1.5 }, /field 'n' = 1\.5 must be a whole number \(u32\)/],
      [{ n: 2 ** 32 }, /field 'n' = 4294967296 must be in \[0, 2\^32\)/],
      [{ n: '3' }, /field 'n' is u32 and takes a number, not the string '3'/],
      [{ s: 2 ** 31 }, /field 's' = 2147483648 must be in \[-2\^31, 2\^31\) \(i32\)/],
      [{ x: Infinity }, /field 'x' = Infinity must be finite as an f32/],
      [{ x: NaN }, /field 'x' = NaN must be finite/],
      [{ x: 1e39 }, /field 'x' = 1e\+39 must be finite as an f32/],
      [{ v: [1] }, /field 'v' \(vec2f\) takes exactly 2 numbers but 1 were given/],
      [{ v: 1 }, /field 'v' is vec2f and takes a list of numbers, not 1/],
      [{ arr: [1, 2, 3, 4, 5] }, /field 'arr' \(array<vec4u, 1>\) takes at most 4 numbers but 5 were given/],
      [{ arr: [1, -2] }, /field 'arr\[1\]' = -2 must be in \[0, 2\^32\)/],
    ];
    for (const [change, message] of cases) {
      const values = { ...good, ...change };
      for (const k of Object.keys(change)) if (change[k] === undefined) delete (values as Record<string, unknown>)[k];
      expect(() => block.pack(values as typeof good), message.source).toThrow(message);
    }
  });

  it('refuses declarations the uniform address space cannot hold', () => {
    expect(() => uniformBlock('inline', 'P', { a: 'array<f32, 4>' })).toThrow(/inline\.wgsl P\.a: array<f32, 4> has 4-byte elements; uniform arrays need 16-byte ones/);
    expect(() => uniformBlock('inline', 'P', { a: 'f16' as 'f32' })).toThrow(/inline\.wgsl P\.a: 'f16' is not a uniform field type/);
    expect(() => uniformBlock('inline', 'P', {})).toThrow(/needs at least one field/);
  });

  it('refuses a dispatch whose pipeline does not include the shader its block was declared for', () => {
    const rec = new Recorder({} as Gpu, 'test');
    const values = Object.fromEntries(MATMUL_PARAMS.fields.filter((f) => !f.padding).map((f) => [f.name, 1])) as Parameters<typeof MATMUL_PARAMS.pack>[0];
    const dispatch = (shaders: string[]) =>
      rec.dispatch({ label: 'probe', pipeline: { shaders, entry: 'x' }, uniforms: MATMUL_PARAMS.pack(values), bindings: [], workgroups: [0] });
    expect(() => dispatch(['common', 'rmsnorm'])).toThrow(/probe: uniforms packed for matmul_common\.wgsl Params, but the pipeline's shaders are common, rmsnorm/);
    expect(() => dispatch(['common', 'matmul_common', 'matmul'])).not.toThrow();
  });
});
