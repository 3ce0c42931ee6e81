// Global L2 norm of the flat gradient buffer and the clip coefficient of torch's clip_grad_norm_.
// Pass 1 (`grad_norm_partial`): each of `parts` workgroups sums g² over a grid-strided slice into
// src → dst = partials [parts]. Pass 2 (`grad_norm_finish`, one workgroup): sums the partials,
// writes norm [1] = √Σ g² and clip [1] = min(1, max_norm / (norm + 1e-6)) (1 when clipping is off).
// NaN or Inf anywhere makes the norm NaN or Inf and the clip coefficient NaN, which the optimizers
// take as "skip this step". reduce_workgroup comes from grad_norm_reduce.wgsl (a tree through
// workgroup memory) or grad_norm_reduce_subgroups.wgsl (subgroup sums), concatenated before this.

struct Params { n: u32, parts: u32, clip_on: u32, max_norm: f32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> clip: array<f32>;

@compute @workgroup_size(256)
fn grad_norm_partial(inv: ReduceInvocation) {
  let wid = inv.wid;
  let li = inv.li;
  var s = 0.0;
  var k = 0u;
  for (var i = wid.x * 256u + li; i < p.n; i += p.parts * 256u) {
    let g = src[i];
    let kind = nonfinite_kind(g);
    k |= kind;
    if (kind == 0u) { s += g * g; }
  }
  let total = reduce_workgroup(inv, s, k);
  if (li == 0u) { dst[wid.x] = flagged(bitcast<f32>(total.x), total.y); }
}

@compute @workgroup_size(256)
fn grad_norm_finish(inv: ReduceInvocation) {
  let li = inv.li;
  var s = 0.0;
  var k = 0u;
  for (var i = li; i < p.parts; i += 256u) {
    let x = src[i];
    let kind = nonfinite_kind(x);
    k |= kind;
    if (kind == 0u) { s += x; }
  }
  let total = reduce_workgroup(inv, s, k);
  if (li != 0u) { return; }
  let norm = flagged(sqrt(bitcast<f32>(total.x)), total.y);
  dst[0] = norm;
  var coef = 1.0;
  if (!is_finite(norm)) {
    coef = flagged(0.0, 1u);
  } else if (p.clip_on != 0u) {
    coef = min(1.0, p.max_norm / (norm + 1e-6));
  }
  clip[0] = coef;
}
