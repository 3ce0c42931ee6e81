// Rows of an [N, C] tensor spread over workgroups of WG threads: TPR threads per row (a power of
// two ≤ 256, chosen from C by the dispatch function), so one workgroup holds WG / TPR rows and
// narrow rows do not each pay a workgroup of barriers. Workgroups past 65,535 are folded through
// linear_workgroup. Concatenated after common.wgsl.
//
// rows_subgroups.wgsl has the same interface (RowInvocation, ROW_PASSES, row_lane, row_sum,
// row_sum2, row_max) built on subgroup operations; a kernel is written once against it:
//
//   @compute @workgroup_size(WG)
//   fn k(inv: RowInvocation) {
//     for (var pass_ = 0u; pass_ < ROW_PASSES; pass_++) {
//       let t = row_lane(inv, pass_, n, c);
//       for (var j = t.lane; j < t.count; j += t.stride) { … }
//       let total = row_sum(inv, partial);   // every thread of the workgroup calls it
//     }
//   }
//
// This file is the workgroup-memory path: a tree over the row's TPR threads, log2(TPR) barriers.

const WG: u32 = 256u;
override TPR: u32 = 256u;
// Passes a thread makes over its workgroup's rows: one here (rows_subgroups.wgsl may need more).
const ROW_PASSES: u32 = 1u;

struct RowInvocation {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
}

// Row and lane of a thread, the stride between its channels, and count = C for a real row, 0 for
// a thread past the last row (it still takes part in the reductions, with 0).
struct RowLane { row: u32, lane: u32, stride: u32, count: u32, }

fn row_lane(inv: RowInvocation, pass_: u32, n: u32, c: u32) -> RowLane {
  let row = linear_workgroup(inv.wid, inv.nwg) * (WG / TPR) + inv.li / TPR;
  return RowLane(row, inv.li % TPR, TPR, select(0u, c, row < n));
}

var<workgroup> row_partial: array<f32, WG>;
var<workgroup> row_partial2: array<vec2f, WG>;

// The sum of v over the TPR threads of this thread's row, returned to each of them. Called in
// uniform control flow by every thread of the workgroup.
fn row_sum(inv: RowInvocation, v: f32) -> f32 {
  if (TPR == 1u) { return v; } // a thread per row: nothing to share, no barrier to pay
  let li = inv.li;
  row_partial[li] = v;
  workgroupBarrier();
  let lane = li % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { row_partial[li] += row_partial[li + s]; }
    workgroupBarrier();
  }
  let total = row_partial[li - lane];
  workgroupBarrier(); // the next call may overwrite the row's first slot
  return total;
}

// Two sums at once, as row_sum.
fn row_sum2(inv: RowInvocation, v: vec2f) -> vec2f {
  if (TPR == 1u) { return v; }
  let li = inv.li;
  row_partial2[li] = v;
  workgroupBarrier();
  let lane = li % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { row_partial2[li] += row_partial2[li + s]; }
    workgroupBarrier();
  }
  let total = row_partial2[li - lane];
  workgroupBarrier();
  return total;
}

// The largest v over the row's threads, as row_sum.
fn row_max(inv: RowInvocation, v: f32) -> f32 {
  if (TPR == 1u) { return v; }
  let li = inv.li;
  row_partial[li] = v;
  workgroupBarrier();
  let lane = li % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { row_partial[li] = max(row_partial[li], row_partial[li + s]); }
    workgroupBarrier();
  }
  let total = row_partial[li - lane];
  workgroupBarrier();
  return total;
}
