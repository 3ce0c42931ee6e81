// Attention backward, part 1, for small heads (D ≤ 16), one thread per query row (see
// attention_rows.wgsl): delta = Σ dOut·out into stats[1], then over the visible keys
//   P = exp(scale q·k − lse),  dScore = P (dOut·v − delta),  dQ = scale Σ_s dScore k_s  (=).
// Same bindings and results as attention_backward_q.wgsl, without workgroup memory or barriers.

@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read> out: array<f32>;
@group(0) @binding(7) var<storage, read> dout: array<f32>;
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;

override HD: u32 = 16u;

@compute @workgroup_size(64)
fn attention_rows_backward_q(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * 64u + li;
  if (row >= p.B * p.T * p.H) { return; }
  let h = row % p.H;
  let t = (row / p.H) % p.T;
  let b = row / p.H / p.T;
  let g = h / (p.H / p.KV);
  let base = row * HD;
  var qr: array<f32, 16>;
  var dor: array<f32, 16>;
  var acc: array<f32, 16>;
  var delta = 0.0;
  for (var d = 0u; d < HD; d++) {
    qr[d] = q[base + d] * p.scale;
    dor[d] = dout[base + d];
    delta += dor[d] * out[base + d];
  }
  let si = stat_index(b, h, t);
  stats[delta_offset() + si] = delta;
  let lse = stats[si];
  let kend = p.past + t + 1u;
  for (var s = first_key(t); s < kend; s++) {
    if (key_mask[b * p.S + s] == 0u) { continue; }
    let at = kv_row(b, s, g);
    var dot = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < HD; d++) {
      dot += qr[d] * k[at + d];
      dp += dor[d] * v[at + d];
    }
    let ds = exp(dot - lse) * (dp - delta);
    for (var d = 0u; d < HD; d++) { acc[d] += ds * k[at + d]; }
  }
  for (var d = 0u; d < HD; d++) { dq[base + d] = acc[d] * p.scale; }
}
