// Plain SGD over a flat parameter buffer, as torch.optim.SGD without momentum:
//   d = g + wd·p;  p ← p − lr·d
// `sgd_step_clipped` scales g by the gradient-norm kernel's clip coefficient and skips the update
// when that coefficient is NaN (the gradients were not finite).

struct Params { n: u32, lr: f32, wd: f32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read> clip: array<f32>;

fn sgd_at(i: u32, g: f32) {
  let x = param[i];
  var d = g;
  if (p.wd != 0.0) { d = g + p.wd * x; }
  param[i] = x - p.lr * d;
}

@compute @workgroup_size(256)
fn sgd_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n) { return; }
  sgd_at(i, grad[i]);
}

@compute @workgroup_size(256)
fn sgd_step_clipped(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  let c = clip[0];
  if (i >= p.n || !is_finite(c)) { return; }
  sgd_at(i, grad[i] * c);
}
