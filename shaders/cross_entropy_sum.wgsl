// total [1] = Σ loss [N], in one workgroup, so a training step reads back a single number: loss is
// one row of N in rows.wgsl's interface (TPR = 256) or rows_subgroups.wgsl's.

struct Params { N: u32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;

@compute @workgroup_size(WG)
fn cross_entropy_sum(inv: RowInvocation) {
  let t = row_lane(inv, 0u, 1u, p.N);
  var s = 0.0;
  for (var i = t.lane; i < t.count; i += t.stride) { s += loss[i]; }
  let sum = row_sum(inv, s);
  if (t.row == 0u && t.lane == 0u) { total[0] = sum; }
}
