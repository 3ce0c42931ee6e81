// Attention backward, part 2, for small heads (D ≤ 16), one thread per key row (b, s, kv head):
// over the H / KV query heads of its group and the query rows that see the key,
//   dV_s = Σ_t P dOut_t,  dK_s = scale Σ_t dScore q_t   (written with =; zeros for unseen keys).
// Same bindings and results as attention_backward_kv.wgsl, without workgroup memory or barriers.

@group(0) @binding(5) var<storage, read> stats: array<f32>;
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

override HD: u32 = 16u;

@compute @workgroup_size(64)
fn attention_rows_backward_kv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  // Thread → k row (b, s, g) in storage order.
  let row = linear_workgroup(wid, nwg) * 64u + li;
  if (row >= p.B * p.S * p.KV) { return; }
  let g = row % p.KV;
  let s = (row / p.KV) % p.S;
  let b = row / p.KV / p.S;
  let base = row * HD;
  var kr: array<f32, 16>;
  var vr: array<f32, 16>;
  var dka: array<f32, 16>;
  var dva: array<f32, 16>;
  for (var d = 0u; d < HD; d++) {
    kr[d] = k[base + d] * p.scale;
    vr[d] = v[base + d];
  }
  // Query row t sees key s when s ≤ past + t (and within its window); keys past past + T and
  // padding get zeros.
  let group = p.H / p.KV;
  let tstart = select(0u, s - p.past, s > p.past);
  var tend = query_end(s);
  if (key_mask[b * p.S + s] == 0u) { tend = 0u; }
  for (var hh = 0u; hh < group; hh++) {
    let h = g * group + hh;
    for (var t = tstart; t < tend; t++) {
      let at = q_row(b, t, h);
      let si = stat_index(b, h, t);
      var dot = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HD; d++) {
        dot += kr[d] * q[at + d];
        dp += vr[d] * dout[at + d];
      }
      let pv = exp(dot - stats[si]);
      let ds = pv * (dp - stats[delta_offset() + si]);
      for (var d = 0u; d < HD; d++) {
        dva[d] += pv * dout[at + d];
        dka[d] += ds * q[at + d];
      }
    }
  }
  for (var d = 0u; d < HD; d++) {
    dk[base + d] = dka[d] * p.scale;
    dv[base + d] = dva[d];
  }
}
