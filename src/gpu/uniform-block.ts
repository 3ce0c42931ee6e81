/**
 * Uniform blocks declared once, by name: the TS twin of a WGSL struct bound as
 * `@group(0) @binding(0) var<uniform> p: Params`. A declaration names the shader file that holds
 * the struct, the struct, and its fields in order with their WGSL types; the byte layout follows
 * WGSL's rules for the uniform address space, so padding is computed, never written by hand
 * (a field named `_…` is explicit padding in the shader and is packed as zero). Dispatches pack by
 * name with `BLOCK.pack({ … })`; tests/gpu/uniform-blocks.test.ts checks every declaration
 * against its shader's struct, and the recorder checks that a dispatch's pipeline includes the
 * shader its block was declared for.
 */

export type ScalarType = 'u32' | 'i32' | 'f32';
export type VectorType = `vec${2 | 3 | 4}${'u' | 'i' | 'f'}`;
export type ArrayType = `array<${ScalarType | VectorType}, ${number}>`;
/** A field's WGSL type, spelled as the canonical WGSL shorthand (`vec4f`, not `vec4<f32>`). */
export type FieldType = ScalarType | VectorType | ArrayType;

export type UniformFields = Readonly<Record<string, FieldType>>;

/** What `pack` takes for a field: a number for a scalar, numbers (flattened) for a vector or array. */
export type FieldValue<T extends FieldType> = T extends ScalarType ? number : ArrayLike<number>;

/** The values of every field but the `_…` padding ones. */
export type UniformValues<F extends UniformFields> = {
  readonly [K in keyof F as K extends `_${string}` ? never : K]: FieldValue<F[K]>;
};

/** One field as laid out in the uniform buffer. */
export interface FieldLayout {
  readonly name: string;
  readonly type: FieldType;
  /** Scalar type of each component. */
  readonly scalar: ScalarType;
  /** Byte offset in the block. */
  readonly offset: number;
  /** Components per element (1 scalar, 2–4 vector) and elements (1, or an array's length). */
  readonly components: number;
  readonly elements: number;
  /** Bytes between array elements (16 in the uniform address space); the element size otherwise. */
  readonly stride: number;
  /** An array takes up to components × elements values; a vector exactly its components. */
  readonly array: boolean;
  readonly padding: boolean;
}

/** Uniform bytes of one dispatch, tagged with the block that packed them. */
export interface PackedUniforms {
  readonly block: UniformBlock;
  readonly bytes: ArrayBuffer;
}

export interface UniformBlock<F extends UniformFields = UniformFields> {
  /** Basename of the shader file holding the struct: `matmul_common` for shaders/matmul_common.wgsl. */
  readonly shader: string;
  /** The WGSL struct's name. */
  readonly struct: string;
  /** `matmul_common.wgsl Params`, for messages. */
  readonly name: string;
  readonly fields: readonly FieldLayout[];
  /** The struct's size in bytes (WGSL's SizeOf), before rounding to 16. */
  readonly size: number;
  /** Bytes `pack` returns: the size rounded up to 16. */
  readonly bytes: number;
  pack(values: UniformValues<F>): PackedUniforms;
}

/** Builds `array<vec4f, 64>` for a declaration whose length is a constant shared with the shader. */
export function arrayOf<E extends ScalarType | VectorType>(element: E, length: number): `array<${E}, ${number}>` {
  return `array<${element}, ${length}>`;
}

const declared = new WeakSet<object>();

/** Whether `x` was made by uniformBlock (for collecting a module's declarations). */
export function isUniformBlock(x: unknown): x is UniformBlock {
  return typeof x === 'object' && x !== null && declared.has(x);
}

const SCALAR_OF = { u: 'u32', i: 'i32', f: 'f32' } as const;
const F32_MAX = 3.4028234663852886e38;

interface TypeLayout {
  scalar: ScalarType;
  components: number;
  elements: number;
  align: number;
  size: number;
  stride: number;
}

/** Alignment and size of one field type in the uniform address space (WGSL § Memory layout). */
function typeLayout(where: string, type: string): TypeLayout {
  if (type === 'u32' || type === 'i32' || type === 'f32') return { scalar: type, components: 1, elements: 1, align: 4, size: 4, stride: 4 };
  const vec = /^vec([234])([uif])$/.exec(type);
  if (vec) {
    const n = Number(vec[1]);
    const align = n === 2 ? 8 : 16;
    return { scalar: SCALAR_OF[vec[2] as 'u' | 'i' | 'f'], components: n, elements: 1, align, size: 4 * n, stride: 4 * n };
  }
  const arr = /^array<(\w+), (\d+)>$/.exec(type);
  if (arr) {
    const e = typeLayout(where, arr[1]);
    const length = Number(arr[2]);
    if (e.elements !== 1) throw new Error(`${where}: arrays of arrays are not supported in a uniform block.`);
    if (!(length >= 1)) throw new Error(`${where}: ${type} must have at least one element.`);
    // Uniform arrays need a 16-byte element stride, so an array<f32> would waste 12 of every 16 bytes.
    if (e.size !== 16) throw new Error(`${where}: ${type} has ${e.size}-byte elements; uniform arrays need 16-byte ones (vec4f, vec4u, vec4i).`);
    return { ...e, elements: length, align: 16, size: 16 * length, stride: 16 };
  }
  throw new Error(`${where}: '${type}' is not a uniform field type (u32, i32, f32, vec2–4 of u/i/f, array<vec4…, N>).`);
}

const roundUp = (align: number, n: number) => Math.ceil(n / align) * align;

/**
 * Declares the uniform block of `struct` in shaders/`shader`.wgsl: fields in the struct's order.
 *
 *   export const MATMUL_PARAMS = uniformBlock('matmul_common', 'Params', { m: 'u32', …, alpha: 'f32' });
 *   rec.dispatch({ …, uniforms: MATMUL_PARAMS.pack({ m, …, alpha }) });
 */
export function uniformBlock<const F extends UniformFields>(shader: string, struct: string, fields: F): UniformBlock<F> {
  const name = `${shader}.wgsl ${struct}`;
  const layout: FieldLayout[] = [];
  let end = 0;
  let align = 4;
  for (const [field, type] of Object.entries(fields)) {
    const t = typeLayout(`${name}.${field}`, type);
    const offset = roundUp(t.align, end);
    layout.push({ name: field, type, scalar: t.scalar, offset, components: t.components, elements: t.elements, stride: t.stride, array: type.startsWith('array<'), padding: field.startsWith('_') });
    end = offset + t.size;
    align = Math.max(align, t.align);
  }
  if (layout.length === 0) throw new Error(`${name}: a uniform block needs at least one field.`);
  const size = roundUp(align, end);
  const bytes = roundUp(16, size);
  const byName = new Map(layout.map((f) => [f.name, f]));
  const block: UniformBlock<F> = {
    shader,
    struct,
    name,
    fields: layout,
    size,
    bytes,
    pack(values) {
      const buf = new ArrayBuffer(bytes);
      const words = { u32: new Uint32Array(buf), i32: new Int32Array(buf), f32: new Float32Array(buf) };
      const given = values as Readonly<Record<string, number | ArrayLike<number>>>;
      for (const key of Object.keys(given)) {
        const f = byName.get(key);
        if (!f) throw new Error(`${name} has no field '${key}' (its fields: ${fieldList(layout)}).`);
        if (f.padding) throw new Error(`${name}: '${key}' is padding and is always zero; leave it out.`);
      }
      for (const f of layout) {
        if (f.padding) continue;
        const v = given[f.name];
        if (v === undefined) throw new Error(`${name}: field '${f.name}' (${f.type}) is missing.`);
        writeField(name, f, v, words);
      }
      return { block, bytes: buf };
    },
  };
  declared.add(block);
  return block;
}

function fieldList(layout: readonly FieldLayout[]): string {
  return layout.filter((f) => !f.padding).map((f) => f.name).join(', ');
}

function writeField(block: string, f: FieldLayout, v: number | ArrayLike<number>, words: Record<ScalarType, Uint32Array | Int32Array | Float32Array>): void {
  const out = words[f.scalar];
  const word = f.offset / 4;
  if (!f.array && f.components === 1) {
    if (typeof v !== 'number') throw new Error(`${block}: field '${f.name}' is ${f.type} and takes a number, not ${describeValue(v)}.`);
    out[word] = checked(block, f.name, f.scalar, v);
    return;
  }
  if (typeof v === 'number' || typeof v?.length !== 'number') {
    throw new Error(`${block}: field '${f.name}' is ${f.type} and takes a list of numbers, not ${describeValue(v)}.`);
  }
  const room = f.components * f.elements;
  // A vector takes all its components; an array may be given fewer values, the rest stay zero.
  if (f.array ? v.length > room : v.length !== room) {
    const want = f.array ? `at most ${room}` : `exactly ${room}`;
    throw new Error(`${block}: field '${f.name}' (${f.type}) takes ${want} numbers but ${v.length} were given.`);
  }
  for (let i = 0; i < v.length; i++) {
    const element = Math.floor(i / f.components);
    out[word + (element * f.stride) / 4 + (i % f.components)] = checked(block, `${f.name}[${i}]`, f.scalar, v[i]);
  }
}

function checked(block: string, field: string, scalar: ScalarType, v: number): number {
  const bad = (rule: string) => new Error(`${block}: field '${field}' = ${describeValue(v)} must be ${rule} (${scalar}).`);
  if (typeof v !== 'number') throw bad('a number');
  if (scalar === 'f32') {
    if (!Number.isFinite(Math.fround(v))) throw bad(`finite as an f32 (at most ${F32_MAX} in magnitude)`);
    return v;
  }
  if (!Number.isInteger(v)) throw bad('a whole number');
  if (scalar === 'u32' && !(v >= 0 && v <= 0xffffffff)) throw bad('in [0, 2^32)');
  if (scalar === 'i32' && !(v >= -0x80000000 && v <= 0x7fffffff)) throw bad('in [-2^31, 2^31)');
  return v;
}

function describeValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `the string '${v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return `a list of ${(v as ArrayLike<unknown>).length}`;
  return typeof v;
}
