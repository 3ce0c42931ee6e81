// Causal attention forward for small heads (D ≤ 16), one thread per query row: the thread keeps
// its q row and output in registers and walks the visible keys with an online softmax, reading
// k and v straight from storage (the 64 rows of a workgroup share their kv heads, so the reads
// hit the caches). No workgroup memory and no barrier: on CPU implementations, where a barrier
// switches every invocation, this is an order faster than the tiled attention.wgsl. Same
// bindings, results and stats contract (row log-sum-exp in stats[0]) as attention.wgsl.

@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

// The head dimension D, fixed per pipeline so the row loops unroll into registers.
override HD: u32 = 16u;

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
  var qr: array<f32, 16>;
  var acc: array<f32, 16>;
  for (var d = 0u; d < HD; d++) { qr[d] = q[base + d] * p.scale; }
  var m = NEG;
  var l = 0.0;
  let kend = p.past + t + 1u;
  for (var s = first_key(t); s < kend; s++) {
    if (key_mask[b * p.S + s] == 0u) { continue; }
    let at = kv_row(b, s, g);
    var score = 0.0;
    for (var d = 0u; d < HD; d++) { score += qr[d] * k[at + d]; }
    if (score > m) {
      let alpha = exp(m - score);
      l *= alpha;
      for (var d = 0u; d < HD; d++) { acc[d] *= alpha; }
      m = score;
    }
    let pj = exp(score - m);
    l += pj;
    for (var d = 0u; d < HD; d++) { acc[d] += pj * v[at + d]; }
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < HD; d++) { out[base + d] = acc[d] * inv; }
  // A row with no visible key keeps lse 0; the backward never reads it (every probability is 0).
  stats[stat_index(b, h, t)] = select(0.0, m + log(l), l > 0.0);
}
