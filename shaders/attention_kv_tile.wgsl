// A block of KT keys (and their values) of one kv head in workgroup memory, shared by the tiled
// forward (attention.wgsl) and dQ backward (attention_backward_q.wgsl), which both walk the visible
// keys of a query tile in such blocks. Concatenated after attention_common.wgsl.

// Keys per block: 16, or 8 for 256-wide heads (set per pipeline to stay within workgroup memory).
override KT: u32 = 16u;

var<workgroup> ks: array<f32, KT * MAX_D>;
var<workgroup> vs: array<f32, KT * MAX_D>;

// Loads keys [k0, k0 + KT) of kv head g of sequence b into ks / vs (zeros past kend), the 64
// threads of the workgroup striding over the elements. Callers put barriers around it.
fn load_kv_tile(li: u32, b: u32, g: u32, k0: u32, kend: u32) {
  for (var e = li; e < KT * p.D; e += 64u) {
    let jj = e / p.D;
    let d = e % p.D;
    var kx = 0.0;
    var vx = 0.0;
    if (k0 + jj < kend) {
      let at = kv_row(b, k0 + jj, g) + d;
      kx = k[at];
      vx = v[at];
    }
    ks[jj * MAX_D + d] = kx;
    vs[jj * MAX_D + d] = vx;
  }
}
