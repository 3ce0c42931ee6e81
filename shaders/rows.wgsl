// Rows of an [N, C] tensor spread over workgroups of WG threads: TPR threads per row (a power of
// two ≤ 256, chosen from C by the dispatch function), so one workgroup holds WG / TPR rows and
// narrow rows do not each pay a workgroup of barriers. Workgroups past 65,535 are folded through
// linear_workgroup. Concatenated after common.wgsl; the kernel's Params must have `n` and `c`.

const WG: u32 = 256u;
override TPR: u32 = 256u;

// Row and lane of a thread; count = C for a real row, 0 for a thread past the last row.
struct RowLane { row: u32, lane: u32, count: u32, }
fn row_lane(wid: vec3u, nwg: vec3u, li: u32) -> RowLane {
  let row = linear_workgroup(wid, nwg) * (WG / TPR) + li / TPR;
  return RowLane(row, li % TPR, select(0u, p.c, row < p.n));
}
