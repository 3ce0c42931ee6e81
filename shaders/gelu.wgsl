// GELU with the tanh approximation (GPT-2's `gelu_new`, PyTorch's gelu(approximate='tanh')):
//   y = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
// Elementwise over any shape [N, C]; forward and backward side by side.

struct Params { n: u32, }
@group(0) @binding(0) var<uniform> p: Params;

const GELU_K: f32 = 0.7978845608028654; // √(2/π)
const GELU_A: f32 = 0.044715;

// tanh without overflow: some backends build tanh from exp(2u) and return NaN for large |u|.
fn stable_tanh(u: f32) -> f32 {
  let t = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - t) / (1.0 + t);
}

// Each entry point binds its own buffers 1, 2, … in the order its dispatch function passes them.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// y = gelu(x); x, y: [N, C]
@compute @workgroup_size(256)
fn gelu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  let v = x[i];
  let th = stable_tanh(GELU_K * (v + GELU_A * v * v * v));
  y[i] = 0.5 * v * (1.0 + th);
}

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x_saved: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// dx = dy · gelu'(x), written with =; dy, x, dx: [N, C]
//   gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
@compute @workgroup_size(256)
fn gelu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  let v = x_saved[i];
  let th = stable_tanh(GELU_K * (v + GELU_A * v * v * v));
  let du = GELU_K * (1.0 + 3.0 * GELU_A * v * v);
  dx[i] = dy[i] * (0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * du);
}
