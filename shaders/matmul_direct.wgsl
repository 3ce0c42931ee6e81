// Matrix multiply without workgroup memory, for small contractions and thin products (K < 256,
// or R-wide LoRA factors), and every product on CPU adapters: C[M, N] (+)= alpha · A[M, K] · B[K, N] (+ bias[N]), batched over z.
// Same bindings, uniforms, storage orders (A_T, B_T), dropout placement and split-K slabs as
// matmul.wgsl, so the dispatch code picks either by shape. Concatenated after common.wgsl,
// weights.wgsl, weights_quant.wgsl, matmul_dropout.wgsl and matmul_common.wgsl.
//
// Each of the 64 threads owns an 8×8 micro-tile of C (16 loads feed 64 FMAs per k) and reads its
// operands straight from storage: there is no barrier, so a workgroup costs only its FMAs (tiles
// sharing operands hit the caches), and CPU implementations, where a barrier switches every
// invocation, run it faster than the tiled kernel at any K (they run every product here).
// TX threads span the columns (8 each) and 64 / TX the rows (8 each), so narrow outputs (N = R = 8) keep
// their threads busy. Rows and columns past the edge read a clamped (valid) address and are not stored.
// A quantized B is decoded four elements of a weight row at a time: in dY·W (B_T = 0) four
// columns of a thread, in x·Wᵀ (B_T = 1) four k of each of its eight B rows (the k loop steps by 4).

override TX: u32 = 16u;

fn a_at(idx: u32) -> f32 {
  if (DROP_AT == 1u) { return a[idx] * drop_factor(idx); }
  return a[idx];
}

fn b_at(idx: u32) -> f32 {
  let v = weight_at(idx);
  if (DROP_AT == 2u) { return v * drop_factor(idx); }
  return v;
}

// The four A values of rows ra at contraction index kk; ra holds clamped row numbers.
fn a4(base: u32, ra: vec4u, kk: u32) -> vec4f {
  if (A_T == 1u) {
    let o = base + kk * p.lda;
    return vec4(a_at(o + ra.x), a_at(o + ra.y), a_at(o + ra.z), a_at(o + ra.w));
  }
  let o = base + ra * p.lda + vec4(kk);
  return vec4(a_at(o.x), a_at(o.y), a_at(o.z), a_at(o.w));
}

fn b4(base: u32, cb: vec4u, kk: u32) -> vec4f {
  // Quantized, B_T = 0: the columns cb are four from col0 (a multiple of 4; N is whole blocks, nothing clamps).
  if (weight_quantized() && B_T == 0u) { return weight4(base + kk * p.ldb + cb.x); }
  if (B_T == 1u) {
    let o = base + cb * p.ldb + vec4(kk);
    return vec4(b_at(o.x), b_at(o.y), b_at(o.z), b_at(o.w));
  }
  let o = base + kk * p.ldb;
  return vec4(b_at(o + cb.x), b_at(o + cb.y), b_at(o + cb.z), b_at(o + cb.w));
}

fn store_row(batch: u32, c_base: u32, row: u32, col0: u32, acc: vec4f) {
  if (row >= p.m) { return; }
  for (var q = 0u; q < 4u; q++) {
    let col = col0 + q;
    if (col >= p.n) { return; }
    let idx = c_base + row * p.ldc + col;
    var v = p.alpha * acc[q];
    // The mask follows the element's index in the final output, not in a split-K slab.
    if (DROP_AT == 3u) { v = v * drop_factor(batch * p.c_batch + row * p.ldc + col + p.c_off); }
    if (HAS_BIAS) { v = v + bias[col + p.c_off]; }
    if (ACCUMULATE) { v = v + c[idx]; }
    c[idx] = v;
  }
}

// Where a thread's 8×8 micro-tile lies, for both direct entry points. Rows ra = row0..row0+3,
// rb = row0+4..row0+7 and columns cb = col0..col0+3, cc = col0+4..col0+7 are clamped to the
// matrix (read, never stored). z = batch · splits + part; part s sums k in
// [s·k_chunk, (s+1)·k_chunk) into its own slab.
struct MicroTile {
  inside: bool,
  row0: u32, col0: u32, batch: u32, k_begin: u32, k_end: u32, a_base: u32, b_base: u32, c_base: u32,
  ra: vec4u, rb: vec4u, cb: vec4u, cc: vec4u,
}

fn micro_tile(wid: vec3u, nwg: vec3u, li: u32) -> MicroTile {
  var t: MicroTile;
  let tile = linear_workgroup(wid, nwg);
  t.row0 = (tile / p.tiles_n) * 8u * (64u / TX) + 8u * (li / TX);
  t.col0 = (tile % p.tiles_n) * 8u * TX + 8u * (li % TX);
  t.inside = tile < p.tiles && t.row0 < p.m && t.col0 < p.n;
  t.batch = wid.z / p.splits;
  t.k_begin = (wid.z % p.splits) * p.k_chunk;
  t.k_end = min(p.k, t.k_begin + p.k_chunk);
  t.a_base = t.batch * p.a_batch + p.a_off;
  t.b_base = t.batch * p.b_batch;
  t.c_base = wid.z * p.c_batch + p.c_off;
  t.ra = min(vec4(t.row0) + vec4(0u, 1u, 2u, 3u), vec4(p.m - 1u));
  t.rb = min(vec4(t.row0) + vec4(4u, 5u, 6u, 7u), vec4(p.m - 1u));
  t.cb = min(vec4(t.col0) + vec4(0u, 1u, 2u, 3u), vec4(p.n - 1u));
  t.cc = min(vec4(t.col0) + vec4(4u, 5u, 6u, 7u), vec4(p.n - 1u));
  return t;
}

@compute @workgroup_size(64)
fn matmul_direct(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let mt = micro_tile(wid, nwg, li);
  if (!mt.inside) { return; }
  let row0 = mt.row0;
  let col0 = mt.col0;
  let batch = mt.batch;
  let k_begin = mt.k_begin;
  let k_end = mt.k_end;
  let a_base = mt.a_base;
  let b_base = mt.b_base;
  let ra = mt.ra;
  let rb = mt.rb;
  let cb = mt.cb;
  let cc = mt.cc;
  // Accumulators: acc (ra, cb), acd (ra, cc), f (rb, cb), g (rb, cc).
  var acc0 = vec4(0.0);
  var acc1 = vec4(0.0);
  var acc2 = vec4(0.0);
  var acc3 = vec4(0.0);
  var acd0 = vec4(0.0);
  var acd1 = vec4(0.0);
  var acd2 = vec4(0.0);
  var acd3 = vec4(0.0);
  var f0 = vec4(0.0); // rows rb
  var f1 = vec4(0.0);
  var f2 = vec4(0.0);
  var f3 = vec4(0.0);
  var g0 = vec4(0.0);
  var g1 = vec4(0.0);
  var g2 = vec4(0.0);
  var g3 = vec4(0.0);
  if (weight_quantized() && B_T == 1u) {
    // k_begin and k_end are multiples of 4 (K is whole blocks, split parts are multiples of 16).
    for (var k4 = k_begin; k4 < k_end; k4 += 4u) {
      let w0 = weight4(b_base + cb.x * p.ldb + k4);
      let w1 = weight4(b_base + cb.y * p.ldb + k4);
      let w2 = weight4(b_base + cb.z * p.ldb + k4);
      let w3 = weight4(b_base + cb.w * p.ldb + k4);
      let w4 = weight4(b_base + cc.x * p.ldb + k4);
      let w5 = weight4(b_base + cc.y * p.ldb + k4);
      let w6 = weight4(b_base + cc.z * p.ldb + k4);
      let w7 = weight4(b_base + cc.w * p.ldb + k4);
      for (var t = 0u; t < 4u; t++) {
        let av = a4(a_base, ra, k4 + t);
        let bv = vec4(w0[t], w1[t], w2[t], w3[t]);
        let dv = vec4(w4[t], w5[t], w6[t], w7[t]);
        acc0 = fma(vec4(av.x), bv, acc0);
        acc1 = fma(vec4(av.y), bv, acc1);
        acc2 = fma(vec4(av.z), bv, acc2);
        acc3 = fma(vec4(av.w), bv, acc3);
        acd0 = fma(vec4(av.x), dv, acd0);
        acd1 = fma(vec4(av.y), dv, acd1);
        acd2 = fma(vec4(av.z), dv, acd2);
        acd3 = fma(vec4(av.w), dv, acd3);
        let ev = a4(a_base, rb, k4 + t);
        f0 = fma(vec4(ev.x), bv, f0);
        f1 = fma(vec4(ev.y), bv, f1);
        f2 = fma(vec4(ev.z), bv, f2);
        f3 = fma(vec4(ev.w), bv, f3);
        g0 = fma(vec4(ev.x), dv, g0);
        g1 = fma(vec4(ev.y), dv, g1);
        g2 = fma(vec4(ev.z), dv, g2);
        g3 = fma(vec4(ev.w), dv, g3);
      }
    }
  } else {
    for (var kk = k_begin; kk < k_end; kk++) {
      let a0 = a4(a_base, ra, kk);
      let e0 = a4(a_base, rb, kk);
      let b0 = b4(b_base, cb, kk);
      let d0 = b4(b_base, cc, kk);
      acc0 = fma(vec4(a0.x), b0, acc0);
      acc1 = fma(vec4(a0.y), b0, acc1);
      acc2 = fma(vec4(a0.z), b0, acc2);
      acc3 = fma(vec4(a0.w), b0, acc3);
      acd0 = fma(vec4(a0.x), d0, acd0);
      acd1 = fma(vec4(a0.y), d0, acd1);
      acd2 = fma(vec4(a0.z), d0, acd2);
      acd3 = fma(vec4(a0.w), d0, acd3);
      f0 = fma(vec4(e0.x), b0, f0);
      f1 = fma(vec4(e0.y), b0, f1);
      f2 = fma(vec4(e0.z), b0, f2);
      f3 = fma(vec4(e0.w), b0, f3);
      g0 = fma(vec4(e0.x), d0, g0);
      g1 = fma(vec4(e0.y), d0, g1);
      g2 = fma(vec4(e0.z), d0, g2);
      g3 = fma(vec4(e0.w), d0, g3);
    }
  }

  let c_base = mt.c_base;
  store_row(batch, c_base, row0, col0, acc0);
  store_row(batch, c_base, row0 + 1u, col0, acc1);
  store_row(batch, c_base, row0 + 2u, col0, acc2);
  store_row(batch, c_base, row0 + 3u, col0, acc3);
  store_row(batch, c_base, row0, col0 + 4u, acd0);
  store_row(batch, c_base, row0 + 1u, col0 + 4u, acd1);
  store_row(batch, c_base, row0 + 2u, col0 + 4u, acd2);
  store_row(batch, c_base, row0 + 3u, col0 + 4u, acd3);
  store_row(batch, c_base, row0 + 4u, col0, f0);
  store_row(batch, c_base, row0 + 5u, col0, f1);
  store_row(batch, c_base, row0 + 6u, col0, f2);
  store_row(batch, c_base, row0 + 7u, col0, f3);
  store_row(batch, c_base, row0 + 4u, col0 + 4u, g0);
  store_row(batch, c_base, row0 + 5u, col0 + 4u, g1);
  store_row(batch, c_base, row0 + 6u, col0 + 4u, g2);
  store_row(batch, c_base, row0 + 7u, col0 + 4u, g3);
}
