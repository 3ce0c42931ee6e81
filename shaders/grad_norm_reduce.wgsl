// grad_norm.wgsl's workgroup reduction through workgroup memory: a tree over 256 threads.

struct ReduceInvocation {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) li: u32,
}

var<workgroup> red_s: array<f32, 256>;
var<workgroup> red_k: array<u32, 256>;

// Workgroup sum of s and OR of the non-finite kinds k; every invocation gets (sum, kinds).
fn reduce_workgroup(inv: ReduceInvocation, s: f32, k: u32) -> vec2u {
  let li = inv.li;
  red_s[li] = s;
  red_k[li] = k;
  for (var half = 128u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (li < half) {
      red_s[li] += red_s[li + half];
      red_k[li] |= red_k[li + half];
    }
  }
  workgroupBarrier();
  return vec2u(bitcast<u32>(red_s[0]), red_k[0]);
}
