// AdamW over a flat parameter buffer, exactly as torch.optim.AdamW (single-tensor path) does it:
//   p ← p · (1 − lr·wd)
//   m ← lerp(m, g, 1 − β1);  v ← v·β2 + (1 − β2)·g·g
//   p ← p − step_size · m / (√v / √(1 − β2^t) + eps),  step_size = lr / (1 − β1^t)
// The bias corrections are computed on the CPU in float64 and arrive as uniforms.
// `adamw_step_clipped` scales g by the clip coefficient the gradient-norm kernel wrote, and leaves
// p, m and v untouched when that coefficient is NaN (the gradients were not finite).

struct Params {
  n: u32,
  decay: f32,
  w1: f32,
  beta2: f32,
  w2: f32,
  eps: f32,
  step_size: f32,
  bc2_sqrt: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> clip: array<f32>;

// torch.lerp(start, end, w): start + w·(end − start) for w < 0.5, end − (end − start)·(1 − w) otherwise.
fn lerp(start: f32, end: f32, w: f32) -> f32 {
  if (w < 0.5) { return start + w * (end - start); }
  return end - (end - start) * (1.0 - w);
}

fn adamw_at(i: u32, g: f32) {
  let x = param[i] * p.decay;
  let mi = lerp(m[i], g, p.w1);
  let vi = v[i] * p.beta2 + p.w2 * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = x - p.step_size * (mi / (sqrt(vi) / p.bc2_sqrt + p.eps));
}

@compute @workgroup_size(256)
fn adamw_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  adamw_at(i, grad[i]);
}

@compute @workgroup_size(256)
fn adamw_step_clipped(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  let c = clip[0];
  if (i >= p.n || !is_finite(c)) { return; }
  adamw_at(i, grad[i] * c);
}
