// Attention backward, part 1, for small heads (D ≤ 16), one thread per query row (see
// attention_rows.wgsl): delta = Σ dOut·out into stats[1], then over the visible keys
//   P = exp(scale q·k − lse),  dScore = P (dOut·v − delta),  dQ = scale Σ_s dScore k_s  (=).
// The results of attention_backward_q.wgsl (dOut at binding 6, out at 7), without workgroup
// memory or barriers.

@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
// binding 6: dOut (attention_rows_scalar.wgsl / attention_rows_vec4.wgsl)
@group(0) @binding(7) var<storage, read> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;

// The four elements of out's row at `at`, zeros past HD.
fn out_chunk(at: u32, c: u32) -> vec4f {
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(out[i], out[i + 1u], out[i + 2u], out[i + 3u]), in_row(c));
}

@compute @workgroup_size(64)
fn attention_rows_backward_q(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * 64u + li;
  if (row >= p.B * p.T * p.H) { return; }
  let h = row % p.H;
  let t = (row / p.H) % p.T;
  let b = row / p.H / p.T;
  let g = h / (p.H / p.KV);
  let base = row * HD;
  // Rows as four vectors (HD4 of them in use) in registers: q (scaled), dOut and the dQ sums.
  let q0 = q_chunk(base, 0u) * p.scale;
  let q1 = select(vec4(0.0), q_chunk(base, 1u) * p.scale, HD4 > 1u);
  let q2 = select(vec4(0.0), q_chunk(base, 2u) * p.scale, HD4 > 2u);
  let q3 = select(vec4(0.0), q_chunk(base, 3u) * p.scale, HD4 > 3u);
  let o0 = dout_chunk(base, 0u);
  let o1 = select(vec4(0.0), dout_chunk(base, 1u), HD4 > 1u);
  let o2 = select(vec4(0.0), dout_chunk(base, 2u), HD4 > 2u);
  let o3 = select(vec4(0.0), dout_chunk(base, 3u), HD4 > 3u);
  var delta = dot(o0, out_chunk(base, 0u));
  if (HD4 > 1u) { delta += dot(o1, out_chunk(base, 1u)); }
  if (HD4 > 2u) { delta += dot(o2, out_chunk(base, 2u)); }
  if (HD4 > 3u) { delta += dot(o3, out_chunk(base, 3u)); }
  let si = stat_index(b, h, t);
  stats[delta_offset() + si] = delta;
  let lse = stats[si];
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  let kend = p.past + t + 1u;
  for (var s = first_key(t); s < kend; s++) {
    if (key_mask[b * p.S + s] == 0u) { continue; }
    let at = kv_row(b, s, g);
    let k0 = k_chunk(at, 0u);
    var k1 = vec4(0.0);
    if (HD4 > 1u) { k1 = k_chunk(at, 1u); }
    var k2 = vec4(0.0);
    if (HD4 > 2u) { k2 = k_chunk(at, 2u); }
    var k3 = vec4(0.0);
    if (HD4 > 3u) { k3 = k_chunk(at, 3u); }
    var dt = dot(q0, k0);
    var dp = dot(o0, v_chunk(at, 0u));
    if (HD4 > 1u) { dt += dot(q1, k1); dp += dot(o1, v_chunk(at, 1u)); }
    if (HD4 > 2u) { dt += dot(q2, k2); dp += dot(o2, v_chunk(at, 2u)); }
    if (HD4 > 3u) { dt += dot(q3, k3); dp += dot(o3, v_chunk(at, 3u)); }
    let ds = exp(dt - lse) * (dp - delta);
    a0 += ds * k0;
    if (HD4 > 1u) { a1 += ds * k1; }
    if (HD4 > 2u) { a2 += ds * k2; }
    if (HD4 > 3u) { a3 += ds * k3; }
  }
  for (var d = 0u; d < HD; d++) { dq[base + d] = pick(a0, a1, a2, a3, d) * p.scale; }
}
