// Softmax cross-entropy backward: dlogits [N, V] = (softmax(logits[n]) − onehot(target)) · scale for
// counted rows, 0 where target is −1 (NaN for a target outside [−1, V), as in the forward).
// scale is 1 / (counted tokens of the accumulated batch), so the loss is the mean over them.
// Elementwise over N·V with the forward's lse; `_inplace` overwrites the logits buffer itself
// (logits are the largest activation), the other writes a separate buffer.

struct Params { N: u32, V: u32, scale: f32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read> logits: array<f32>;

// A NaN made at run time (a constant NaN is rejected by the WGSL compiler).
fn quiet_nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

fn ce_grad(i: u32, x: f32) -> f32 {
  let n = i / p.V;
  let tgt = targets[n];
  if (tgt == -1) { return 0.0; }
  if (tgt < -1 || tgt >= i32(p.V)) { return quiet_nan(); }
  let onehot = select(0.0, 1.0, i - n * p.V == u32(tgt));
  return (exp(x - lse[n]) - onehot) * p.scale;
}

@compute @workgroup_size(256)
fn cross_entropy_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.N * p.V) { return; }
  dlogits[i] = ce_grad(i, logits[i]);
}

@compute @workgroup_size(256)
fn cross_entropy_backward_inplace(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.N * p.V) { return; }
  dlogits[i] = ce_grad(i, dlogits[i]);
}
