// RMSNorm (Llama): y = x / sqrt(mean(x²) + eps) · g, over the last dimension C of x [N, C].
// One workgroup per row (rows past 65,535 folded through linear_workgroup); each thread strides
// over the channels and a tree reduction in workgroup memory sums the row. g [C] is a frozen
// weight in its stored dtype (weights.wgsl). The forward saves rstd [N] for the backward.

struct Params { n: u32, c: u32, eps: f32, }
@group(0) @binding(0) var<uniform> p: Params;

// Backward only: 0 writes dx (=), 1 adds it into dx (+=, along the residual stream).
override ACCUMULATE: u32 = 0u;

const WG: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

// The sum of v over the workgroup, returned to every thread.
fn workgroup_sum(li: u32, v: f32) -> f32 {
  partial[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // the next call may overwrite partial[0]
  return total;
}

// Each entry point binds its own buffers 1, 2, … in the order its dispatch function passes them.
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [N, C]
@group(0) @binding(2) var<storage, read> g: array<u32>;          // [C], WDTYPE
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // [N, C]
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>; // [N]

@compute @workgroup_size(WG)
fn rmsnorm_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg);
  if (row >= p.n) { return; }
  let base = row * p.c;
  var ss = 0.0;
  for (var j = li; j < p.c; j += WG) {
    let v = x[base + j];
    ss += v * v;
  }
  let r = inverseSqrt(workgroup_sum(li, ss) / f32(p.c) + p.eps);
  for (var j = li; j < p.c; j += WG) {
    y[base + j] = (x[base + j] * r) * weight_value(g[weight_word(j)], j);
  }
  if (li == 0u) { rstd[row] = r; }
}

@group(0) @binding(1) var<storage, read> dy: array<f32>;          // [N, C]
@group(0) @binding(2) var<storage, read> x_saved: array<f32>;     // [N, C]
@group(0) @binding(3) var<storage, read> g_saved: array<u32>;     // [C], WDTYPE
@group(0) @binding(4) var<storage, read> rstd_saved: array<f32>;  // [N]
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;    // [N, C]

// dx_j = r·g_j·dy_j − x_j · r³/C · Σ_k g_k·dy_k·x_k,  r = rstd of the row.
@compute @workgroup_size(WG)
fn rmsnorm_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg);
  if (row >= p.n) { return; }
  let base = row * p.c;
  let r = rstd_saved[row];
  var dot = 0.0;
  for (var j = li; j < p.c; j += WG) {
    dot += dy[base + j] * weight_value(g_saved[weight_word(j)], j) * x_saved[base + j];
  }
  let m = workgroup_sum(li, dot) / f32(p.c) * r * r * r;
  for (var j = li; j < p.c; j += WG) {
    let v = r * weight_value(g_saved[weight_word(j)], j) * dy[base + j] - x_saved[base + j] * m;
    if (ACCUMULATE == 1u) { dx[base + j] += v; } else { dx[base + j] = v; }
  }
}
