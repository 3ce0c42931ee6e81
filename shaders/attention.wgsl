// Causal attention forward, flash style: one workgroup per (b, h, tile of FQ query rows) walks the
// visible keys in blocks of FK with an online softmax, so no [T, S] matrix is stored. FR threads
// share a query row; thread r owns features r, r + FR, … of the output. Saves the row
// log-sum-exp in stats[0] for the backward.

@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

// Query rows per workgroup: 16, or 8 for 256-wide heads (their tiles would not fit workgroup memory).
override FQ: u32 = 16u;
override FK: u32 = KT; // keys per block (attention_kv_tile.wgsl)
override FR: u32 = 64u / FQ; // threads per query row

var<workgroup> qs: array<f32, FQ * MAX_D>;
var<workgroup> sc: array<f32, FQ * FK>; // scaled scores, NEG where not visible

@compute @workgroup_size(64)
fn attention_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tiles = (p.T + FQ - 1u) / FQ;
  let w = linear_workgroup(wid, nwg);
  if (w >= p.B * p.H * tiles) { return; }
  let t0 = (w % tiles) * FQ;
  let h = (w / tiles) % p.H;
  let b = w / tiles / p.H;
  let g = h / (p.H / p.KV);
  let i = li / FR;
  let r = li % FR;
  let t = t0 + i;
  let row_ok = t < p.T;

  for (var e = li; e < FQ * p.D; e += 64u) {
    let ii = e / p.D;
    var x = 0.0;
    if (t0 + ii < p.T) { x = q[q_row(b, t0 + ii, h) + e % p.D]; }
    qs[ii * MAX_D + e % p.D] = x;
  }
  // Keys [0, kend) may be visible to some row of this tile.
  let kend = p.past + min(t0 + FQ, p.T);
  let nc = (p.D + FR - 1u) / FR;
  var m = NEG;
  var l = 0.0;
  var acc: array<f32, 32>; // MAX_D / FR
  // Keys before the first row's window are seen by no row of the tile.
  for (var k0 = (first_key(t0) / FK) * FK; k0 < kend; k0 += FK) {
    workgroupBarrier();
    load_kv_tile(li, b, g, k0, kend);
    workgroupBarrier();
    for (var jj = r; jj < FK; jj += FR) {
      let s = k0 + jj;
      var score = NEG;
      if (row_ok && key_visible(b, t, s)) {
        var dot = 0.0;
        for (var d = 0u; d < p.D; d++) { dot += qs[i * MAX_D + d] * ks[jj * MAX_D + d]; }
        score = dot * p.scale;
      }
      sc[i * FK + jj] = score;
    }
    workgroupBarrier();
    var bmax = NEG;
    for (var jj = 0u; jj < FK; jj++) { bmax = max(bmax, sc[i * FK + jj]); }
    let m_new = max(m, bmax);
    let alpha = exp(m - m_new);
    l *= alpha;
    for (var c = 0u; c < nc; c++) { acc[c] *= alpha; }
    for (var jj = 0u; jj < FK; jj++) {
      let s = sc[i * FK + jj];
      if (s > NEG) {
        let pj = exp(s - m_new);
        l += pj;
        for (var c = 0u; c < nc; c++) { acc[c] += pj * vs[jj * MAX_D + r + c * FR]; }
      }
    }
    m = m_new;
  }
  if (!row_ok) { return; }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  let base = q_row(b, t, h);
  for (var c = 0u; c < nc; c++) {
    let d = r + c * FR;
    if (d < p.D) { out[base + d] = acc[c] * inv; }
  }
  // A row with no visible key keeps lse 0; the backward never reads it (every probability is 0).
  if (r == 0u) { stats[stat_index(b, h, t)] = select(0.0, m + log(l), l > 0.0); }
}
