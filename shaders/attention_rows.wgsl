// Causal attention forward for small heads (D ≤ 16), one thread per query row: the thread keeps
// its q row and output in registers and walks the visible keys with an online softmax, reading
// k and v straight from storage (the 64 rows of a workgroup share their kv heads, so the reads
// hit the caches). No workgroup memory and no barrier: on CPU implementations, where a barrier
// switches every invocation, this is an order faster than the tiled attention.wgsl. Same
// bindings, results and stats contract (row log-sum-exp in stats[0]) as attention.wgsl.

@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn attention_rows_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  // Thread → q row (b, t, h) in storage order.
  let row = linear_workgroup(wid, nwg) * 64u + li;
  if (row >= p.B * p.T * p.H) { return; }
  let h = row % p.H;
  let t = (row / p.H) % p.T;
  let b = row / p.H / p.T;
  let g = h / (p.H / p.KV);
  let base = row * HD;
  // The row as four vectors (HD4 of them in use): registers, where an indexed array would not be.
  let q0 = q_chunk(base, 0u) * p.scale;
  let q1 = select(vec4(0.0), q_chunk(base, 1u) * p.scale, HD4 > 1u);
  let q2 = select(vec4(0.0), q_chunk(base, 2u) * p.scale, HD4 > 2u);
  let q3 = select(vec4(0.0), q_chunk(base, 3u) * p.scale, HD4 > 3u);
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  var m = NEG;
  var l = 0.0;
  let kend = p.past + t + 1u;
  for (var s = first_key(t); s < kend; s++) {
    if (key_mask[b * p.S + s] == 0u) { continue; }
    let at = kv_row(b, s, g);
    var score = dot(q0, k_chunk(at, 0u));
    if (HD4 > 1u) { score += dot(q1, k_chunk(at, 1u)); }
    if (HD4 > 2u) { score += dot(q2, k_chunk(at, 2u)); }
    if (HD4 > 3u) { score += dot(q3, k_chunk(at, 3u)); }
    let mx = max(m, score);
    let alpha = exp(m - mx);
    let pj = exp(score - mx);
    m = mx;
    l = l * alpha + pj;
    a0 = a0 * alpha + pj * v_chunk(at, 0u);
    if (HD4 > 1u) { a1 = a1 * alpha + pj * v_chunk(at, 1u); }
    if (HD4 > 2u) { a2 = a2 * alpha + pj * v_chunk(at, 2u); }
    if (HD4 > 3u) { a3 = a3 * alpha + pj * v_chunk(at, 3u); }
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < HD; d++) { out[base + d] = pick(a0, a1, a2, a3, d) * inv; }
  // A row with no visible key keeps lse 0; the backward never reads it (every probability is 0).
  stats[stat_index(b, h, t)] = select(0.0, m + log(l), l > 0.0);
}
