// SwiGLU, the Llama MLP's gate: out = silu(gate) ⊙ up, with silu(g) = g·σ(g).
// gate, up: the outputs of gate_proj and up_proj, [N, I]; elementwise.

struct Params { n: u32, }
@group(0) @binding(0) var<uniform> p: Params;

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

// out = silu(gate) ⊙ up; all [N, I]
@compute @workgroup_size(256)
fn swiglu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  let g = gate[i];
  out[i] = g * sigmoid(g) * up[i];
}

@group(0) @binding(1) var<storage, read> d_out: array<f32>;
@group(0) @binding(2) var<storage, read> gate_saved: array<f32>;
@group(0) @binding(3) var<storage, read> up_saved: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_gate: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_up: array<f32>;

// d_gate = d_out · up · silu'(gate), silu'(g) = σ(g)·(1 + g·(1 − σ(g)));  d_up = d_out · silu(gate).
// Both written with =; all [N, I].
@compute @workgroup_size(256)
fn swiglu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  let g = gate_saved[i];
  let s = sigmoid(g);
  let d = d_out[i];
  d_gate[i] = d * up_saved[i] * s * (1.0 + g * (1.0 - s));
  d_up[i] = d * g * s;
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
  let s = sigmoid(g);
  let d = d_out_in[i];
  gate_to_d[i] = d * u * s * (1.0 + g * (1.0 - s));
  up_to_d[i] = d * g * s;
}
