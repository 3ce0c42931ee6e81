import type { Recorder } from '../gpu/recorder.ts';
import { uniforms } from '../gpu/recorder.ts';
import { describe, expectShape, isQuantDType, numel, type Tensor } from '../gpu/tensor.ts';
import { WDTYPE } from './weights.ts';

const WG = 256;
const SHADERS = ['common', 'weights', 'weights_quant', 'embedding'] as const;

/**
 * out = table[ids]: ids i32 [N] (or [B, T]), table [V, C] in f32/f16/bf16 or a quantized dtype,
 * out f32 [N, C] (or [B, T, C]).
 * An id outside [0, V) gives a row of zeros; validate ids on the CPU to report them.
 */
export function embeddingLookup(rec: Recorder, ids: Tensor, table: Tensor, out: Tensor): void {
  gather(rec, 'embedding', 'embedding_lookup', ids, table, out);
}

/**
 * out += wpe[positions]: learned position embeddings (GPT-2). positions i32 [N] (or [B, T]),
 * wpe [P, C] in f32/f16/bf16, out f32 [N, C] (or [B, T, C]). A position outside [0, P) adds nothing.
 */
export function positionEmbeddingAdd(rec: Recorder, positions: Tensor, wpe: Tensor, out: Tensor): void {
  gather(rec, 'position embedding', 'embedding_add', positions, wpe, out);
}

function gather(rec: Recorder, op: string, entry: string, ids: Tensor, table: Tensor, out: Tensor): void {
  expectShape(op, 'ids', ids, ids.shape, ['i32']);
  const wdtype = WDTYPE[table.dtype];
  if (table.shape.length !== 2 || wdtype === undefined) {
    throw new Error(`${op}: the table is ${describe(table)} but a [V, C] table of f32, f16, bf16 or a quantized type is needed.`);
  }
  const [v, c] = table.shape;
  expectShape(op, 'out', out, [...ids.shape, c], ['f32']);
  const n = numel(ids.shape);
  const vec = isQuantDType(table.dtype) ? 4 : 1;
  // A table in row windows: one dispatch per window, each filling the rows whose ids it holds.
  const windows = table.rowWindows ?? [table];
  let id0 = 0;
  windows.forEach((win, w) => {
    rec.dispatch({
      label: `${op} ${out.label}${windows.length > 1 ? ` rows ${id0}+` : ''}`,
      pipeline: { shaders: SHADERS, entry, constants: { WDTYPE: wdtype, VEC: vec } },
      uniforms: uniforms(n, c, win.shape[0], id0, w > 0 ? 1 : 0),
      bindings: [ids, win, out],
      workgroups: [Math.ceil((n * c) / vec / WG)],
    });
    id0 += win.shape[0];
  });
}
