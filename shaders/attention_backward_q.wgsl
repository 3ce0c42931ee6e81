// Attention backward, part 1: dQ, and the row terms delta = Σ dOut·out that part 2 needs.
// One workgroup per (b, h, tile of QQ query rows) walks the visible keys in blocks of QK and
// recomputes P = exp(score − lse) from the forward's log-sum-exp:
//   dP = dOut · v,  dScore = P (dP − delta),  dQ = scale Σ_s dScore k_s   (written with =).

@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read> out: array<f32>;
@group(0) @binding(7) var<storage, read> dout: array<f32>;
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;

// Query rows per workgroup: 8, or 4 for 256-wide heads.
override QQ: u32 = 8u;
override QK: u32 = KT; // keys per block (attention_kv_tile.wgsl)
override QR: u32 = 64u / QQ; // threads per query row

var<workgroup> qs: array<f32, QQ * MAX_D>;
var<workgroup> dos: array<f32, QQ * MAX_D>;
var<workgroup> dsc: array<f32, QQ * QK>; // dScore
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn attention_backward_q(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tiles = (p.T + QQ - 1u) / QQ;
  let w = linear_workgroup(wid, nwg);
  if (w >= p.B * p.H * tiles) { return; }
  let t0 = (w % tiles) * QQ;
  let h = (w / tiles) % p.H;
  let b = w / tiles / p.H;
  let g = h / (p.H / p.KV);
  let i = li / QR;
  let r = li % QR;
  let t = t0 + i;
  let row_ok = t < p.T;
  let nc = (p.D + QR - 1u) / QR;

  for (var e = li; e < QQ * p.D; e += 64u) {
    let ii = e / p.D;
    var qx = 0.0;
    var dx = 0.0;
    if (t0 + ii < p.T) {
      let at = q_row(b, t0 + ii, h) + e % p.D;
      qx = q[at];
      dx = dout[at];
    }
    qs[ii * MAX_D + e % p.D] = qx;
    dos[ii * MAX_D + e % p.D] = dx;
  }
  var part = 0.0;
  if (row_ok) {
    let base = q_row(b, t, h);
    for (var c = 0u; c < nc; c++) {
      let d = r + c * QR;
      if (d < p.D) { part += dout[base + d] * out[base + d]; }
    }
  }
  red[li] = part;
  workgroupBarrier();
  var delta = 0.0;
  for (var rr = 0u; rr < QR; rr++) { delta += red[i * QR + rr]; }
  var lse = 0.0;
  if (row_ok) {
    lse = stats[stat_index(b, h, t)];
    if (r == 0u) { stats[delta_offset() + stat_index(b, h, t)] = delta; }
  }

  let kend = p.past + min(t0 + QQ, p.T);
  var acc: array<f32, 16>; // MAX_D / QR
  for (var k0 = (first_key(t0) / QK) * QK; k0 < kend; k0 += QK) {
    workgroupBarrier();
    load_kv_tile(li, b, g, k0, kend);
    workgroupBarrier();
    for (var jj = r; jj < QK; jj += QR) {
      let s = k0 + jj;
      var ds = 0.0;
      if (row_ok && key_visible(b, t, s)) {
        var dot = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < p.D; d++) {
          dot += qs[i * MAX_D + d] * ks[jj * MAX_D + d];
          dp += dos[i * MAX_D + d] * vs[jj * MAX_D + d];
        }
        ds = exp(dot * p.scale - lse) * (dp - delta);
      }
      dsc[i * QK + jj] = ds;
    }
    workgroupBarrier();
    for (var jj = 0u; jj < QK; jj++) {
      let ds = dsc[i * QK + jj];
      for (var c = 0u; c < nc; c++) { acc[c] += ds * ks[jj * MAX_D + r + c * QR]; }
    }
  }
  if (!row_ok) { return; }
  let base = q_row(b, t, h);
  for (var c = 0u; c < nc; c++) {
    let d = r + c * QR;
    if (d < p.D) { dq[base + d] = acc[c] * p.scale; }
  }
}
