// Gated MLP activations: out = act(gate) ⊙ up, with act = silu (SwiGLU, Llama: silu(g) = g·σ(g))
// or, with GELU = 1, the tanh GELU (GeGLU, Gemma's gelu_pytorch_tanh). gate, up: the outputs of
// gate_proj and up_proj, [N, I]; elementwise.

struct Params { n: u32, }
@group(0) @binding(0) var<uniform> p: Params;

// 0: silu (SwiGLU), 1: gelu_tanh (GeGLU).
override GELU: u32 = 0u;

const GELU_K: f32 = 0.7978845608028654; // √(2/π)
const GELU_A: f32 = 0.044715;

// tanh without overflow (as gelu.wgsl).
fn stable_tanh(u: f32) -> f32 {
  let t = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - t) / (1.0 + t);
}

// act(g) and act'(g) of the chosen activation.
fn act(g: f32) -> f32 {
  if (GELU == 1u) { return 0.5 * g * (1.0 + stable_tanh(GELU_K * (g + GELU_A * g * g * g))); }
  return g * sigmoid(g);
}
fn act_grad(g: f32) -> f32 {
  if (GELU == 1u) {
    let th = stable_tanh(GELU_K * (g + GELU_A * g * g * g));
    return 0.5 * (1.0 + th) + 0.5 * g * (1.0 - th * th) * GELU_K * (1.0 + 3.0 * GELU_A * g * g);
  }
  let s = sigmoid(g);
  return s * (1.0 + g * (1.0 - s));
}

// σ(g) without overflow: exp is only ever taken of a non-positive number.
fn sigmoid(g: f32) -> f32 {
  if (g >= 0.0) { return 1.0 / (1.0 + exp(-g)); }
  let e = exp(g);
  return e / (1.0 + e);
}

// Each entry point binds its own buffers 1, 2, … in the order its dispatch function passes them.
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// out = act(gate) ⊙ up; all [N, I]
@compute @workgroup_size(256)
fn swiglu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  out[i] = act(gate[i]) * up[i];
}

@group(0) @binding(1) var<storage, read> d_out: array<f32>;
@group(0) @binding(2) var<storage, read> gate_saved: array<f32>;
@group(0) @binding(3) var<storage, read> up_saved: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_gate: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_up: array<f32>;

// d_gate = d_out · up · act'(gate);  d_up = d_out · act(gate). silu'(g) = σ(g)·(1 + g·(1 − σ(g)));
// gelu'(g) = 0.5·(1 + tanh u) + 0.5·g·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·g²). Both written with =; all [N, I].
@compute @workgroup_size(256)
fn swiglu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  let g = gate_saved[i];
  let d = d_out[i];
  d_gate[i] = d * up_saved[i] * act_grad(g);
  d_up[i] = d * act(g);
}

@group(0) @binding(1) var<storage, read> d_out_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> gate_to_d: array<f32>;
@group(0) @binding(3) var<storage, read_write> up_to_d: array<f32>;

// swiglu_backward in place: gate and up (the forward's, dead after this) are overwritten by d_gate
// and d_up, so the MLP backward needs no [N, I] buffers of its own for them. Each element is read
// before it is written, by the same thread.
@compute @workgroup_size(256)
fn swiglu_backward_inplace(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  let g = gate_to_d[i];
  let u = up_to_d[i];
  let d = d_out_in[i];
  gate_to_d[i] = d * u * act_grad(g);
  up_to_d[i] = d * act(g);
}
