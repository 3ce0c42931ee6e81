import type { Recorder } from '../gpu/recorder.ts';
import { describe, expectShape, isQuantDType, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';
import { WDTYPE } from './weights.ts';

const WG = 256;
const SHADERS = ['common', 'weights', 'weights_quant', 'embedding'] as const;

/**
 * shaders/embedding.wgsl's uniforms: rows N, channels C, the window's row count and first id,
 * whether ids outside the window are skipped, and the scale.
 */
export const EMBEDDING_PARAMS = uniformBlock('embedding', 'Params', { n: 'u32', c: 'u32', v: 'u32', id0: 'u32', skip_outside: 'u32', scale: 'f32' });

/**
 * out = table[ids]: ids i32 [N] (or [B, T]), table [V, C] in f32/f16/bf16 or a quantized dtype,
 * out f32 [N, C] (or [B, T, C]).
 * An id outside [0, V) gives a row of zeros; validate ids on the CPU to report them. `scale`
 * multiplies every value (Gemma's √C; default 1).
 */
export function embeddingLookup(rec: Recorder, ids: Tensor, table: Tensor, out: Tensor, scale = 1): void {
  gather(rec, 'embedding', 'embedding_lookup', ids, table, out, scale);
}

/**
 * out += wpe[positions]: learned position embeddings (GPT-2). positions i32 [N] (or [B, T]),
 * wpe [P, C] in f32/f16/bf16, out f32 [N, C] (or [B, T, C]). A position outside [0, P) adds nothing.
 */
export function positionEmbeddingAdd(rec: Recorder, positions: Tensor, wpe: Tensor, out: Tensor): void {
  gather(rec, 'position embedding', 'embedding_add', positions, wpe, out);
}

function gather(rec: Recorder, op: string, entry: string, ids: Tensor, table: Tensor, out: Tensor, scale = 1): void {
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale ${scale} must be a finite number.`);
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
      uniforms: EMBEDDING_PARAMS.pack({ n, c, v: win.shape[0], id0, skip_outside: w > 0 ? 1 : 0, scale }),
      bindings: [ids, win, out],
      workgroups: [Math.ceil((n * c) / vec / WG)],
    });
    id0 += win.shape[0];
  });
}
