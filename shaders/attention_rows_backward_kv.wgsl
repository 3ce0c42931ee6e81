// Attention backward, part 2, for small heads (D ≤ 16), one thread per key row (b, s, kv head):
// over the H / KV query heads of its group and the query rows that see the key,
//   dV_s = Σ_t P dOut_t,  dK_s = scale Σ_t dScore q_t   (written with =; zeros for unseen keys).
// Same bindings and results as attention_backward_kv.wgsl, without workgroup memory or barriers.

@group(0) @binding(5) var<storage, read> stats: array<f32>;
// binding 6: dOut (attention_rows_scalar.wgsl / attention_rows_vec4.wgsl)
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(64)
fn attention_rows_backward_kv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  // Thread → k row (b, s, g) in storage order.
  let row = linear_workgroup(wid, nwg) * 64u + li;
  if (row >= p.B * p.S * p.KV) { return; }
  let g = row % p.KV;
  let s = (row / p.KV) % p.S;
  let b = row / p.KV / p.S;
  let base = row * HD;
  // Rows as four vectors (HD4 of them in use) in registers: k (scaled), v and the dK, dV sums.
  let k0 = k_chunk(base, 0u) * p.scale;
  let k1 = select(vec4(0.0), k_chunk(base, 1u) * p.scale, HD4 > 1u);
  let k2 = select(vec4(0.0), k_chunk(base, 2u) * p.scale, HD4 > 2u);
  let k3 = select(vec4(0.0), k_chunk(base, 3u) * p.scale, HD4 > 3u);
  let v0 = v_chunk(base, 0u);
  let v1 = select(vec4(0.0), v_chunk(base, 1u), HD4 > 1u);
  let v2 = select(vec4(0.0), v_chunk(base, 2u), HD4 > 2u);
  let v3 = select(vec4(0.0), v_chunk(base, 3u), HD4 > 3u);
  var dk0 = vec4(0.0);
  var dk1 = vec4(0.0);
  var dk2 = vec4(0.0);
  var dk3 = vec4(0.0);
  var dv0 = vec4(0.0);
  var dv1 = vec4(0.0);
  var dv2 = vec4(0.0);
  var dv3 = vec4(0.0);
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
      let q0 = q_chunk(at, 0u);
      var q1 = vec4(0.0);
      if (HD4 > 1u) { q1 = q_chunk(at, 1u); }
      var q2 = vec4(0.0);
      if (HD4 > 2u) { q2 = q_chunk(at, 2u); }
      var q3 = vec4(0.0);
      if (HD4 > 3u) { q3 = q_chunk(at, 3u); }
      let o0 = dout_chunk(at, 0u);
      var o1 = vec4(0.0);
      if (HD4 > 1u) { o1 = dout_chunk(at, 1u); }
      var o2 = vec4(0.0);
      if (HD4 > 2u) { o2 = dout_chunk(at, 2u); }
      var o3 = vec4(0.0);
      if (HD4 > 3u) { o3 = dout_chunk(at, 3u); }
      var dt = dot(k0, q0);
      var dp = dot(v0, o0);
      if (HD4 > 1u) { dt += dot(k1, q1); dp += dot(v1, o1); }
      if (HD4 > 2u) { dt += dot(k2, q2); dp += dot(v2, o2); }
      if (HD4 > 3u) { dt += dot(k3, q3); dp += dot(v3, o3); }
      let pv = exp(dt - stats[si]);
      let ds = pv * (dp - stats[delta_offset() + si]);
      dv0 += pv * o0;
      dk0 += ds * q0;
      if (HD4 > 1u) { dv1 += pv * o1; dk1 += ds * q1; }
      if (HD4 > 2u) { dv2 += pv * o2; dk2 += ds * q2; }
      if (HD4 > 3u) { dv3 += pv * o3; dk3 += ds * q3; }
    }
  }
  for (var d = 0u; d < HD; d++) {
    dk[base + d] = pick(dk0, dk1, dk2, dk3, d) * p.scale;
    dv[base + d] = pick(dv0, dv1, dv2, dv3, d);
  }
}
