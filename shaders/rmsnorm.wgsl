// RMSNorm (Llama): y = x / sqrt(mean(x²) + eps) · g, over the last dimension C of x [N, C].
// Rows are spread over workgroups as rows.wgsl describes; each thread strides over its row's
// channels and row_sum adds the row's threads: a tree through workgroup memory (rows.wgsl) or
// subgroup sums (rows_subgroups.wgsl, where the device has subgroups; see rmsnorm.ts for when).
// g [C] is a frozen weight in its stored dtype (weights.wgsl). The forward saves rstd [N] for the
// backward. With PLUS_ONE = 1 the gain is (1 + g) (Gemma's RMSNorm, whose checkpoints store g).

struct Params { n: u32, c: u32, eps: f32, }
@group(0) @binding(0) var<uniform> p: Params;

// Backward only: 0 writes dx (=), 1 adds it into dx (+=, along the residual stream).
override ACCUMULATE: u32 = 0u;
// 1: the gain is 1 + g (Gemma), 0: g.
override PLUS_ONE: u32 = 0u;

// Each entry point binds its own buffers 1, 2, … in the order its dispatch function passes them.
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [N, C]
@group(0) @binding(2) var<storage, read> g: array<u32>;          // [C], WDTYPE
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // [N, C]
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>; // [N]

// The gain of channel j: (1 + g_j) with PLUS_ONE, else g_j (forward's and backward's bindings).
fn gain(j: u32) -> f32 { return f32(PLUS_ONE) + weight_value(g[weight_word(j)], j); }
fn gain_saved(j: u32) -> f32 { return f32(PLUS_ONE) + weight_value(g_saved[weight_word(j)], j); }

@compute @workgroup_size(WG)
fn rmsnorm_forward(inv: RowInvocation) {
  for (var pass_ = 0u; pass_ < ROW_PASSES; pass_++) {
    let t = row_lane(inv, pass_, p.n, p.c);
    let base = t.row * p.c;
    var ss = 0.0;
    for (var j = t.lane; j < t.count; j += t.stride) {
      let v = x[base + j];
      ss += v * v;
    }
    let r = inverseSqrt(row_sum(inv, ss) / f32(p.c) + p.eps);
    for (var j = t.lane; j < t.count; j += t.stride) {
      y[base + j] = (x[base + j] * r) * gain(j);
    }
    if (t.lane == 0u && t.count > 0u) { rstd[t.row] = r; }
  }
}

@group(0) @binding(1) var<storage, read> dy: array<f32>;          // [N, C]
@group(0) @binding(2) var<storage, read> x_saved: array<f32>;     // [N, C]
@group(0) @binding(3) var<storage, read> g_saved: array<u32>;     // [C], WDTYPE
@group(0) @binding(4) var<storage, read> rstd_saved: array<f32>;  // [N]
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;    // [N, C]

// dx_j = r·g_j·dy_j − x_j · r³/C · Σ_k g_k·dy_k·x_k,  r = rstd of the row.
@compute @workgroup_size(WG)
fn rmsnorm_backward(inv: RowInvocation) {
  for (var pass_ = 0u; pass_ < ROW_PASSES; pass_++) {
    let t = row_lane(inv, pass_, p.n, p.c);
    let base = t.row * p.c;
    let r = select(0.0, rstd_saved[min(t.row, p.n - 1u)], t.count > 0u);
    var dot = 0.0;
    for (var j = t.lane; j < t.count; j += t.stride) {
      dot += dy[base + j] * gain_saved(j) * x_saved[base + j];
    }
    let m = row_sum(inv, dot) / f32(p.c) * r * r * r;
    for (var j = t.lane; j < t.count; j += t.stride) {
      let v = r * gain_saved(j) * dy[base + j] - x_saved[base + j] * m;
      if (ACCUMULATE == 1u) { dx[base + j] += v; } else { dx[base + j] = v; }
    }
  }
}
