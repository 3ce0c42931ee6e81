// Attention backward, part 2: dK and dV, summed over the H / KV query heads that share a kv head.
// One workgroup per (b, kv head, tile of KK keys) walks, for each query head of the group, the
// query rows that can see the tile in blocks of KQ, recomputing P and dScore as part 1 does:
//   dV_s = Σ_t P dOut_t,  dK_s = scale Σ_t dScore q_t   (written with =; zeros for unseen keys).

@group(0) @binding(5) var<storage, read> stats: array<f32>;
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

// Keys per workgroup and query rows per block: 8 and 16, or 4 and 8 for 256-wide heads.
override KK: u32 = 8u;
override KQ: u32 = 16u;
override KR: u32 = 64u / KK; // threads per key

var<workgroup> ks: array<f32, KK * MAX_D>;
var<workgroup> vs: array<f32, KK * MAX_D>;
var<workgroup> qs: array<f32, KQ * MAX_D>;
var<workgroup> dos: array<f32, KQ * MAX_D>;
var<workgroup> lses: array<f32, KQ>;
var<workgroup> deltas: array<f32, KQ>;
var<workgroup> ps: array<f32, KK * KQ>; // P
var<workgroup> dsc: array<f32, KK * KQ>; // dScore

@compute @workgroup_size(64)
fn attention_backward_kv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tiles = (p.S + KK - 1u) / KK;
  let w = linear_workgroup(wid, nwg);
  if (w >= p.B * p.KV * tiles) { return; }
  let s0 = (w % tiles) * KK;
  let g = (w / tiles) % p.KV;
  let b = w / tiles / p.KV;
  let j = li / KR;
  let r = li % KR;
  let s = s0 + j;
  let nc = (p.D + KR - 1u) / KR;
  var key_ok = false;
  if (s < p.S) { key_ok = key_mask[b * p.S + s] != 0u; }

  for (var e = li; e < KK * p.D; e += 64u) {
    let jj = e / p.D;
    var kx = 0.0;
    var vx = 0.0;
    if (s0 + jj < p.S) {
      let at = kv_row(b, s0 + jj, g) + e % p.D;
      kx = k[at];
      vx = v[at];
    }
    ks[jj * MAX_D + e % p.D] = kx;
    vs[jj * MAX_D + e % p.D] = vx;
  }
  // The first query that can see key s0 sits at position s0, i.e. row s0 − past.
  let tstart = select(0u, s0 - p.past, s0 > p.past);
  let group = p.H / p.KV;
  var dka: array<f32, 16>; // MAX_D / KR
  var dva: array<f32, 16>;
  for (var hh = 0u; hh < group; hh++) {
    let h = g * group + hh;
    // Rows past the window of the tile's last key see none of it.
    for (var t0 = tstart; t0 < query_end(s0 + KK - 1u); t0 += KQ) {
      workgroupBarrier();
      for (var e = li; e < KQ * p.D; e += 64u) {
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
      if (li < KQ) {
        var lx = 0.0;
        var dl = 0.0;
        if (t0 + li < p.T) {
          lx = stats[stat_index(b, h, t0 + li)];
          dl = stats[delta_offset() + stat_index(b, h, t0 + li)];
        }
        lses[li] = lx;
        deltas[li] = dl;
      }
      workgroupBarrier();
      for (var ii = r; ii < KQ; ii += KR) {
        let t = t0 + ii;
        var pv = 0.0;
        var ds = 0.0;
        if (key_ok && t < p.T && s <= p.past + t && t < query_end(s)) {
          var dot = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < p.D; d++) {
            dot += ks[j * MAX_D + d] * qs[ii * MAX_D + d];
            dp += vs[j * MAX_D + d] * dos[ii * MAX_D + d];
          }
          pv = exp(dot * p.scale - lses[ii]);
          ds = pv * (dp - deltas[ii]);
        }
        ps[j * KQ + ii] = pv;
        dsc[j * KQ + ii] = ds;
      }
      workgroupBarrier();
      for (var ii = 0u; ii < KQ; ii++) {
        let pv = ps[j * KQ + ii];
        let ds = dsc[j * KQ + ii];
        for (var c = 0u; c < nc; c++) {
          let d = r + c * KR;
          dva[c] += pv * dos[ii * MAX_D + d];
          dka[c] += ds * qs[ii * MAX_D + d];
        }
      }
    }
  }
  if (s >= p.S) { return; }
  let base = kv_row(b, s, g);
  for (var c = 0u; c < nc; c++) {
    let d = r + c * KR;
    if (d < p.D) {
      dk[base + d] = dka[c] * p.scale;
      dv[base + d] = dva[c];
    }
  }
}
