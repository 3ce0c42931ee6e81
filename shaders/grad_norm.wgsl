// Global L2 norm of the flat gradient buffer and the clip coefficient of torch's clip_grad_norm_.
// Pass 1 (`grad_norm_partial`): each of `parts` workgroups sums g² over a grid-strided slice into
// src → dst = partials [parts]. Pass 2 (`grad_norm_finish`, one workgroup): sums the partials,
// writes norm [1] = √Σ g² and clip [1] = min(1, max_norm / (norm + 1e-6)) (1 when clipping is off).
// NaN or Inf anywhere makes the norm NaN or Inf and the clip coefficient NaN, which the optimizers
// take as "skip this step".

struct Params { n: u32, parts: u32, clip_on: u32, max_norm: f32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> clip: array<f32>;

var<workgroup> red_s: array<f32, 256>;
var<workgroup> red_k: array<u32, 256>;

// Workgroup sum of s and OR of the non-finite kinds k; every invocation gets (sum, kinds).
fn reduce_workgroup(li: u32, s: f32, k: u32) -> vec2u {
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

@compute @workgroup_size(256)
fn grad_norm_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  var k = 0u;
  for (var i = wid.x * 256u + li; i < p.n; i += p.parts * 256u) {
    let g = src[i];
    let kind = nonfinite_kind(g);
    k |= kind;
    if (kind == 0u) { s += g * g; }
  }
  let total = reduce_workgroup(li, s, k);
  if (li == 0u) { dst[wid.x] = flagged(bitcast<f32>(total.x), total.y); }
}

@compute @workgroup_size(256)
fn grad_norm_finish(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  var k = 0u;
  for (var i = li; i < p.parts; i += 256u) {
    let x = src[i];
    let kind = nonfinite_kind(x);
    k |= kind;
    if (kind == 0u) { s += x; }
  }
  let total = reduce_workgroup(li, s, k);
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
