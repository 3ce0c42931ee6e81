import type { UniformBlock } from '../../src/gpu/uniform-block.ts';

/** One field of a WGSL struct: its name and its type in canonical shorthand (`vec4f`, `array<vec4f, 64>`). */
export interface WgslField {
  name: string;
  type: string;
}

/** A struct bound as `var<uniform>` in one shader file. */
export interface WgslUniformStruct {
  /** The variable's name (`p`) and binding. */
  variable: string;
  binding: number;
  struct: string;
  fields: WgslField[];
}

/** The source without `//` and `/* … *\/` comments. */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** `const NAME: u32 = 256u;` (or without a type) of every source given: integer constants by name. */
export function integerConstants(sources: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const code of sources) {
    for (const m of stripComments(code).matchAll(/\bconst\s+(\w+)\s*(?::\s*[ui]32\s*)?=\s*([^;]+);/g)) {
      try {
        out.set(m[1], evaluate(m[2], out));
      } catch {
        // Not an integer expression (a float, a vector): not usable as an array length.
      }
    }
  }
  return out;
}

/** Evaluates a WGSL integer constant expression of literals, named constants, + − * / % and parentheses. */
export function evaluate(expr: string, constants: ReadonlyMap<string, number>): number {
  const tokens = expr.match(/\d+[ui]?|\w+|[-+*/%()]/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`'${expr}' is not an integer constant expression.`);
  let at = 0;
  const primary = (): number => {
    const t = tokens[at++];
    if (t === '(') {
      const v = sum();
      if (tokens[at++] !== ')') throw new Error(`'${expr}': unbalanced parentheses.`);
      return v;
    }
    if (t === '-') return -primary();
    if (t !== undefined && /^\d+[ui]?$/.test(t)) return Number(t.replace(/[ui]$/, ''));
    const v = t === undefined ? undefined : constants.get(t);
    if (v === undefined) throw new Error(`'${expr}': '${t}' is not a known integer constant.`);
    return v;
  };
  const product = (): number => {
    let v = primary();
    while (tokens[at] === '*' || tokens[at] === '/' || tokens[at] === '%') {
      const op = tokens[at++];
      const r = primary();
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[at] === '+' || tokens[at] === '-') v = tokens[at++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (at !== tokens.length) throw new Error(`'${expr}': unexpected '${tokens[at]}'.`);
  return v;
}

/** `vec4<f32>` → `vec4f`, `array<vec4<f32>, N / 4u>` → `array<vec4f, 64>`; anything else as written. */
export function canonicalType(type: string, constants: ReadonlyMap<string, number>): string {
  const t = type.replace(/\s+/g, '');
  const vec = /^vec([234])<([uif])32>$/.exec(t);
  if (vec) return `vec${vec[1]}${vec[2]}`;
  const arr = /^array<(.+),([^,<>]+)>$/.exec(t);
  if (arr) return `array<${canonicalType(arr[1], constants)}, ${evaluate(arr[2], constants)}>`;
  return t;
}

/** Splits on commas outside `<…>` and `(…)`. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The fields of `struct name { … }` in `code`, or undefined when the file does not declare it. */
export function structFields(code: string, name: string, constants: ReadonlyMap<string, number>): WgslField[] | undefined {
  const m = new RegExp(`\\bstruct\\s+${name}\\s*\\{([^}]*)\\}`).exec(stripComments(code));
  if (!m) return undefined;
  return splitTopLevel(m[1]).map((decl) => {
    const f = /^(\w+)\s*:\s*([\s\S]+)$/.exec(decl);
    // @align / @size would move fields where the declaration's computed layout does not put them.
    if (!f) throw new Error(`struct ${name}: cannot read the field '${decl}' (attributes such as @align are not supported).`);
    return { name: f[1], type: canonicalType(f[2], constants) };
  });
}

/** Every `@binding(N) var<uniform> v: S;` of one file, with S's fields (S declared in the same file). */
export function uniformStructs(file: string, code: string, constants: ReadonlyMap<string, number>): WgslUniformStruct[] {
  const out: WgslUniformStruct[] = [];
  for (const m of stripComments(code).matchAll(/@binding\((\d+)\)\s*var<uniform>\s*(\w+)\s*:\s*(\w+)\s*;/g)) {
    const fields = structFields(code, m[3], constants);
    if (!fields) throw new Error(`${file}: var<uniform> ${m[2]} has type ${m[3]}, which is not a struct declared in the same file.`);
    out.push({ variable: m[2], binding: Number(m[1]), struct: m[3], fields });
  }
  return out;
}

/** Where a declaration and a shader struct differ, field by field; empty when they are identical. */
export function differences(block: UniformBlock, fields: readonly WgslField[]): string[] {
  const out: string[] = [];
  const n = Math.max(block.fields.length, fields.length);
  for (let i = 0; i < n; i++) {
    const d = block.fields[i];
    const w = fields[i];
    const ts = d ? `${d.name}: ${d.type}` : 'nothing';
    const wgsl = w ? `${w.name}: ${w.type}` : 'nothing';
    if (ts !== wgsl) out.push(`field ${i}: the shader has ${wgsl}, the declaration ${ts}`);
  }
  return out;
}
