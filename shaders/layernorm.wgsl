// LayerNorm (GPT-2): y = (x − mean) / sqrt(var + eps) · g + b over the last dimension C of
// x [N, C] (biased variance, as torch.nn.LayerNorm). Rows are spread over workgroups as rows.wgsl
// describes; each thread strides over its row's channels and row_sum / row_sum2 add the row's
// threads (a tree through workgroup memory, or subgroup sums: rows_subgroups.wgsl). g, b [C] are frozen weights in one stored dtype
// (weights.wgsl). The forward saves mean and rstd [N] for the backward.

struct Params { n: u32, c: u32, eps: f32, }
@group(0) @binding(0) var<uniform> p: Params;

// Backward only: 0 writes dx (=), 1 adds it into dx (+=, along the residual stream).
override ACCUMULATE: u32 = 0u;

// Each entry point binds its own buffers 1, 2, … in the order its dispatch function passes them.
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [N, C]
@group(0) @binding(2) var<storage, read> g: array<u32>;          // [C], WDTYPE
@group(0) @binding(3) var<storage, read> b: array<u32>;          // [C], WDTYPE
@group(0) @binding(4) var<storage, read_write> y: array<f32>;    // [N, C]
@group(0) @binding(5) var<storage, read_write> mean: array<f32>; // [N]
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>; // [N]

@compute @workgroup_size(WG)
fn layernorm_forward(inv: RowInvocation) {
  for (var pass_ = 0u; pass_ < ROW_PASSES; pass_++) {
    let t = row_lane(inv, pass_, p.n, p.c);
    let base = t.row * p.c;
    var s = 0.0;
    for (var j = t.lane; j < t.count; j += t.stride) { s += x[base + j]; }
    let m = row_sum(inv, s) / f32(p.c);
    // Variance from the centred values (two passes): no cancellation when |mean| ≫ std.
    var ss = 0.0;
    for (var j = t.lane; j < t.count; j += t.stride) {
      let d = x[base + j] - m;
      ss += d * d;
    }
    let r = inverseSqrt(row_sum(inv, ss) / f32(p.c) + p.eps);
    for (var j = t.lane; j < t.count; j += t.stride) {
      let w = weight_word(j);
      y[base + j] = (x[base + j] - m) * r * weight_value(g[w], j) + weight_value(b[w], j);
    }
    if (t.lane == 0u && t.count > 0u) {
      mean[t.row] = m;
      rstd[t.row] = r;
    }
  }
}

@group(0) @binding(1) var<storage, read> dy: array<f32>;          // [N, C]
@group(0) @binding(2) var<storage, read> x_saved: array<f32>;     // [N, C]
@group(0) @binding(3) var<storage, read> g_saved: array<u32>;     // [C], WDTYPE
@group(0) @binding(4) var<storage, read> mean_saved: array<f32>;  // [N]
@group(0) @binding(5) var<storage, read> rstd_saved: array<f32>;  // [N]
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;    // [N, C]

// With x̂ = (x − mean)·r and d = g ⊙ dy:  dx = r · (d − mean(d) − x̂ · mean(d ⊙ x̂)).
@compute @workgroup_size(WG)
fn layernorm_backward(inv: RowInvocation) {
  for (var pass_ = 0u; pass_ < ROW_PASSES; pass_++) {
    let t = row_lane(inv, pass_, p.n, p.c);
    let base = t.row * p.c;
    let row = min(t.row, p.n - 1u);
    let m = mean_saved[row];
    let r = rstd_saved[row];
    var sums = vec2f(0.0);
    for (var j = t.lane; j < t.count; j += t.stride) {
      let d = weight_value(g_saved[weight_word(j)], j) * dy[base + j];
      sums += vec2f(d, d * (x_saved[base + j] - m) * r);
    }
    let means = row_sum2(inv, sums) / f32(p.c);
    for (var j = t.lane; j < t.count; j += t.stride) {
      let d = weight_value(g_saved[weight_word(j)], j) * dy[base + j];
      let v = r * (d - means.x - (x_saved[base + j] - m) * r * means.y);
      if (ACCUMULATE == 1u) { dx[base + j] += v; } else { dx[base + j] = v; }
    }
  }
}
