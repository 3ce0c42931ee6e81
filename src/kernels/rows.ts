import type { Gpu } from '../gpu/device.ts';

/** Threads of one workgroup in shaders/rows.wgsl and rows_subgroups.wgsl. */
export const ROW_WORKGROUP = 256;

/**
 * How the rows of an [N, C] tensor go onto workgroups for a kernel built on shaders/rows.wgsl's
 * interface: the helper file to concatenate before the kernel, its pipeline constants, the
 * workgroup count, and whether the module needs the subgroup directives.
 */
export interface RowLayout {
  helper: 'rows' | 'rows_subgroups';
  subgroups: boolean;
  constants: Record<string, number>;
  workgroups: number;
}

/**
 * Where `gpu.subgroups` is on: a row per subgroup when C ≤ gpu.subgroupRowMax (no workgroup memory,
 * no barrier), else a row per workgroup (subgroup sums joined in workgroup memory). Otherwise, and
 * for a thread per row (`threads` = 1) up to C ≤ gpu.threadRowMax, rows.wgsl with `threads`
 * threads per row (a power of two from 1 to 256).
 */
export function rowLayout(gpu: Gpu, n: number, c: number, threads: number): RowLayout {
  if (!gpu.subgroups || (threads === 1 && c <= gpu.threadRowMax)) {
    return { helper: 'rows', subgroups: false, constants: { TPR: threads }, workgroups: Math.ceil(n / (ROW_WORKGROUP / threads)) };
  }
  if (c > gpu.subgroupRowMax) return { helper: 'rows_subgroups', subgroups: true, constants: { ROWS: 1, ROW_PASSES: 1 }, workgroups: n };
  const { subgroupMinSize, subgroupMaxSize } = gpu.adapter;
  // As many rows as the workgroup has subgroups at the smallest size; passes enough for the largest.
  const rows = Math.max(1, Math.floor(ROW_WORKGROUP / subgroupMinSize));
  const passes = Math.ceil(rows / Math.max(1, Math.floor(ROW_WORKGROUP / subgroupMaxSize)));
  return { helper: 'rows_subgroups', subgroups: true, constants: { ROWS: rows, ROW_PASSES: passes }, workgroups: Math.ceil(n / rows) };
}
