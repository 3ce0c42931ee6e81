// grad_norm.wgsl's workgroup reduction with subgroups (needs `enable subgroups; requires
// subgroup_id;`): each subgroup adds its threads (subgroupAdd, subgroupOr) into one slot per
// subgroup_id, and after one barrier every subgroup adds the slots again. One barrier instead of
// the tree's nine; for any subgroup size and any grouping of invocations into subgroups (see
// rows_subgroups.wgsl). The order of the sums is fixed per pipeline and device: run to run the
// result is the same. The default where the device has subgroups: the norm of 2²⁰ gradients ran
// 1.9–6.5× faster than with the tree on SwiftShader (`tsugiki bench --reductions`, several runs).

struct ReduceInvocation {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_id) sg: u32,
  @builtin(num_subgroups) nsg: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
}

// One slot per subgroup: a subgroup holds at least 4 of the 256 invocations (see rows_subgroups.wgsl).
var<workgroup> red_s: array<f32, 64>;
var<workgroup> red_k: array<u32, 64>;

fn reduce_workgroup(inv: ReduceInvocation, s: f32, k: u32) -> vec2u {
  let ss = subgroupAdd(s);
  let kk = subgroupOr(k);
  if (inv.sg_lane == 0u) {
    red_s[inv.sg] = ss;
    red_k[inv.sg] = kk;
  }
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var ps = 0.0;
  var pk = 0u;
  for (var i = inv.sg_lane; i < inv.nsg; i += lanes) {
    ps += red_s[i];
    pk |= red_k[i];
  }
  return vec2u(bitcast<u32>(subgroupAdd(ps)), subgroupOr(pk));
}
