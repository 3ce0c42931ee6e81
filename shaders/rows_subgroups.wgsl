// Rows of an [N, C] tensor on subgroups: the interface of rows.wgsl (read it first) with subgroup
// operations instead of a tree through workgroup memory. Needs `enable subgroups; requires
// subgroup_id;` (the pipeline key's `subgroups` flag). Concatenated after common.wgsl.
//
// Nothing here assumes a subgroup size or how the hardware groups invocations into subgroups: a
// dispatch may run at any size from the adapter's subgroupMinSize to its maxSize, subgroups need
// not be full, and which local_invocation_index lands in which subgroup is not specified. Two
// layouts, chosen by the dispatch function through ROWS:
//   ROWS = 1: a row per workgroup. Thread li strides over the row; each subgroup sums its threads
//     (subgroupAdd) into one slot per subgroup_id, and after one barrier every subgroup sums the
//     num_subgroups slots again (lane k reads slots k, k + lanes, …). Two barriers per reduction
//     whatever the row's width.
//   ROWS > 1: a row per subgroup, ROWS rows per workgroup. Subgroup s takes rows s, s + S, … of the
//     workgroup's block (S = num_subgroups) over ROW_PASSES passes; its lanes stride over the row
//     and a reduction is one subgroup operation: no workgroup memory, no barrier.
// Within one pipeline on one device the order of every sum is fixed, so results are the same run
// to run; they differ from rows.wgsl's in the last bits (another summation order).
//
// The default where the device has subgroups, and only where it was not slower when measured
// (`tsugiki bench --reductions`, SwiftShader, subgroup size 4, N = 512): a row per subgroup ran
// RMSNorm and LayerNorm 2.3–5.8× faster than the tree at C = 1024 and 2048, LayerNorm 2.6–6.4×
// at C = 64, and cross-entropy 10–16× at V = 4096; a row per workgroup, against the tree at the
// same workgroup count (C = 8192, V = 32000, N = 128), 0.95–1.5×. RMSNorm's barrier-free thread
// per row (C ≤ 256) was as fast (0.35–1.8× over many runs, within the noise), so CPU adapters keep
// it (Gpu.threadRowMax). GPUs were not measured; there a row goes on a subgroup up to 2048 values
// and on a workgroup past that (Gpu.subgroupRowMax).

const WG: u32 = 256u;
// Rows per workgroup: 1, or WG / subgroupMinSize for a row per subgroup.
override ROWS: u32 = 1u;
// Passes over the block: ⌈ROWS / (WG / subgroupMaxSize)⌉, so the fewest subgroups still cover it.
override ROW_PASSES: u32 = 1u;

struct RowInvocation {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_id) sg: u32,
  @builtin(num_subgroups) nsg: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
}

struct RowLane { row: u32, lane: u32, stride: u32, count: u32, }

fn row_lane(inv: RowInvocation, pass_: u32, n: u32, c: u32) -> RowLane {
  let wg = linear_workgroup(inv.wid, inv.nwg);
  if (ROWS == 1u) {
    return RowLane(wg, inv.li, WG, select(0u, c, wg < n));
  }
  let slot = pass_ * inv.nsg + inv.sg;
  let row = wg * ROWS + slot;
  // The subgroup's invocations, numbered 0 … lanes − 1 (a compute subgroup's ids have no holes).
  let lanes = subgroupAdd(1u);
  return RowLane(row, inv.sg_lane, lanes, select(0u, c, slot < ROWS && row < n));
}

// One slot per subgroup, for subgroups of at least 4 invocations (WebGPU's smallest size: 256
// invocations fill power-of-two subgroups exactly). Not 256 slots for subgroups that are not full:
// zeroing the larger array at every workgroup's start cost SwiftShader about half the gain.
var<workgroup> row_partial: array<f32, WG / 4u>;
var<workgroup> row_partial2: array<vec2f, WG / 4u>;

// The sum of v over the row's threads, returned to each of them. Called in uniform control flow by
// every thread of the workgroup.
fn row_sum(inv: RowInvocation, v: f32) -> f32 {
  let s = subgroupAdd(v);
  if (ROWS != 1u) { return s; }
  if (inv.sg_lane == 0u) { row_partial[inv.sg] = s; }
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var part = 0.0;
  for (var k = inv.sg_lane; k < inv.nsg; k += lanes) { part += row_partial[k]; }
  let total = subgroupAdd(part);
  workgroupBarrier(); // the next call may overwrite the slots
  return total;
}

fn row_sum2(inv: RowInvocation, v: vec2f) -> vec2f {
  let s = subgroupAdd(v);
  if (ROWS != 1u) { return s; }
  if (inv.sg_lane == 0u) { row_partial2[inv.sg] = s; }
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var part = vec2f(0.0);
  for (var k = inv.sg_lane; k < inv.nsg; k += lanes) { part += row_partial2[k]; }
  let total = subgroupAdd(part);
  workgroupBarrier();
  return total;
}

fn row_max(inv: RowInvocation, v: f32) -> f32 {
  let s = subgroupMax(v);
  if (ROWS != 1u) { return s; }
  if (inv.sg_lane == 0u) { row_partial[inv.sg] = s; }
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var part = row_partial[0];
  for (var k = inv.sg_lane; k < inv.nsg; k += lanes) { part = max(part, row_partial[k]); }
  let total = subgroupMax(part);
  workgroupBarrier();
  return total;
}
