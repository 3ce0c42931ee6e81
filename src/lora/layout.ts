/**
 * Every LoRA matrix of an adapter lives in ONE f32 buffer, so the optimizer updates all of them in
 * one dispatch. Each matrix starts at a multiple of 64 floats (256 bytes, WebGPU's
 * minStorageBufferOffsetAlignment), so any one of them can also be bound on its own.
 *
 * The B [3C, R] of a fused module (GPT-2's c_attn, one PEFT adapter whose rows feed q, k and v)
 * keeps each row block [C, R] at a multiple of 64 floats too, so each projection binds its block
 * as an ordinary B; when C·R is not a multiple of 64 the blocks have zero padding between them,
 * and readSlot / writeSlot gather and scatter the matrix's rows.
 */
import type { AdapterModule } from './modules.ts';

/** Offsets and sizes are in floats. */
export const LAYOUT_ALIGN_FLOATS = 64;

export interface MatrixSlot {
  offset: number;
  /** Row-major: A is [R, K], B is [N, R]. */
  shape: [number, number];
  /** B of a fused module: its row blocks in order, each aligned (offset is the first one's). */
  blocks?: MatrixSlot[];
}

export interface LayoutEntry extends AdapterModule {
  a: MatrixSlot;
  b: MatrixSlot;
}

export interface AdapterLayout {
  rank: number;
  /** Length of the buffer in floats (a multiple of 64); padding between matrices is zero. */
  totalFloats: number;
  entries: LayoutEntry[];
}

const alignUp = (n: number) => Math.ceil(n / LAYOUT_ALIGN_FLOATS) * LAYOUT_ALIGN_FLOATS;

/** Places A then B of each module, in the order given. */
export function planAdapterLayout(modules: readonly AdapterModule[], rank: number): AdapterLayout {
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`planAdapterLayout: rank must be a whole number ≥ 1 (got ${rank})`);
  let cursor = 0;
  const entries: LayoutEntry[] = modules.map((mod) => {
    const R = rank;
    const K = mod.inFeatures;
    const N = mod.outFeatures;
    const a: MatrixSlot = { offset: cursor, shape: [R, K] };
    cursor = alignUp(cursor + R * K);
    const b: MatrixSlot = { offset: cursor, shape: [N, R] };
    if (mod.blockRows) {
      if (mod.blockRows.reduce((x, y) => x + y, 0) !== N) throw new Error(`planAdapterLayout: ${mod.name}'s row blocks [${mod.blockRows.join(', ')}] do not add up to its ${N} output rows`);
      b.blocks = mod.blockRows.map((rows) => {
        const block: MatrixSlot = { offset: cursor, shape: [rows, R] };
        cursor = alignUp(cursor + rows * R);
        return block;
      });
    } else {
      cursor = alignUp(cursor + N * R);
    }
    return { ...mod, a, b };
  });
  return { rank, totalFloats: cursor, entries };
}

/** The row blocks of a matrix: a fused module's B has several, every other matrix is one. */
export function slotBlocks(slot: MatrixSlot): MatrixSlot[] {
  return slot.blocks ?? [slot];
}

/** Whether the matrix's rows follow each other in the buffer (no padding between its blocks). */
function contiguous(slot: MatrixSlot): boolean {
  let end = slot.offset;
  for (const b of slotBlocks(slot)) {
    if (b.offset !== end) return false;
    end += b.shape[0] * b.shape[1];
  }
  return true;
}

/** A view (not a copy) of one matrix inside the flat buffer; a matrix with padded blocks has none (readSlot / writeSlot). */
export function slotView<T extends Float32Array | Float64Array>(params: T, slot: MatrixSlot): T {
  if (!contiguous(slot)) throw new Error(`slotView: the [${slot.shape.join(', ')}] matrix at float ${slot.offset} is stored in padded row blocks; read it with readSlot and write it with writeSlot`);
  return params.subarray(slot.offset, slot.offset + slot.shape[0] * slot.shape[1]) as T;
}

/** The matrix's values, row-major: a view when its rows are contiguous, else a gathered copy. */
export function readSlot<T extends Float32Array | Float64Array>(params: T, slot: MatrixSlot): T {
  if (contiguous(slot)) return slotView(params, slot);
  const out = new (params.constructor as { new (n: number): T })(slot.shape[0] * slot.shape[1]);
  let at = 0;
  for (const b of slotBlocks(slot)) {
    const n = b.shape[0] * b.shape[1];
    out.set(params.subarray(b.offset, b.offset + n), at);
    at += n;
  }
  return out;
}

/** Writes a matrix's row-major values into its place (its blocks) in the flat buffer. */
export function writeSlot(params: Float32Array | Float64Array, slot: MatrixSlot, values: ArrayLike<number>): void {
  const n = slot.shape[0] * slot.shape[1];
  if (values.length !== n) throw new Error(`writeSlot: ${values.length} values given for a [${slot.shape.join(', ')}] matrix (${n})`);
  let at = 0;
  for (const b of slotBlocks(slot)) {
    const len = b.shape[0] * b.shape[1];
    for (let i = 0; i < len; i++) params[b.offset + i] = values[at + i];
    at += len;
  }
}

/** Finds the entry of a module by its HF path, with a clear error when the adapter lacks it. */
export function layoutEntry(layout: AdapterLayout, moduleName: string): LayoutEntry {
  const e = layout.entries.find((x) => x.name === moduleName);
  if (e) return e;
  throw new Error(`the adapter has no LoRA pair for module '${moduleName}' (it adapts ${layout.entries.length} modules, e.g. '${layout.entries[0]?.name ?? 'none'}')`);
}
