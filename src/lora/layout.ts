/**
 * Every LoRA matrix of an adapter lives in ONE f32 buffer, so the optimizer updates all of them in
 * one dispatch. Each matrix starts at a multiple of 64 floats (256 bytes, WebGPU's
 * minStorageBufferOffsetAlignment), so any one of them can also be bound on its own.
 */
import type { AdapterModule } from './modules.ts';

/** Offsets and sizes are in floats. */
export const LAYOUT_ALIGN_FLOATS = 64;

export interface MatrixSlot {
  offset: number;
  /** Row-major: A is [R, K], B is [N, R]. */
  shape: [number, number];
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
    cursor = alignUp(cursor + N * R);
    return { ...mod, a, b };
  });
  return { rank, totalFloats: cursor, entries };
}

/** A view (not a copy) of one matrix inside the flat buffer. */
export function slotView(params: Float32Array, slot: MatrixSlot): Float32Array {
  return params.subarray(slot.offset, slot.offset + slot.shape[0] * slot.shape[1]);
}

/** Finds the entry of a module by its HF path, with a clear error when the adapter lacks it. */
export function layoutEntry(layout: AdapterLayout, moduleName: string): LayoutEntry {
  const e = layout.entries.find((x) => x.name === moduleName);
  if (e) return e;
  throw new Error(`the adapter has no LoRA pair for module '${moduleName}' (it adapts ${layout.entries.length} modules, e.g. '${layout.entries[0]?.name ?? 'none'}')`);
}
