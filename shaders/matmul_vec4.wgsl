// The direct matmul (matmul_direct.wgsl) reading four consecutive elements per load: the same
// 8×8 micro-tile per thread, the same uniforms, storage orders, dropout placement, split-K slabs
// and stores, with A and B also bound as vec4 arrays (bindings 5 and 6 alias bindings 1 and 2).
// Concatenated after matmul_direct.wgsl.
//
// Every k step of four takes 16 vector loads for 256 FMAs where the scalar kernel takes 64 loads:
// on CPU implementations (which run a thread's vector as separate lanes and check the bounds of
// every load) the loads, not the FMAs, cost the most. The dispatch picks this entry point only
// when every vector is aligned and whole: K and N multiples of 4; A's, B's and C's leading
// dimensions, offsets and batch strides multiples of 4; M too when A_T = 1. A vector of rows or
// columns is then either wholly inside its matrix or wholly past it (it reads the first vector of
// the tile instead, which is never stored), and C is written four columns at a time.

@group(0) @binding(5) var<storage, read> a_v: array<vec4f>;
@group(0) @binding(6) var<storage, read> b_v: array<vec4u>;
// C as vectors: this entry point writes only through it (binding 4 stays unbound here).
@group(0) @binding(7) var<storage, read_write> c_v: array<vec4f>;

// Row `row`, columns col0..col0+3 of C in one vector (N, ldc and c_off are multiples of 4).
fn store4(batch: u32, c_base: u32, row: u32, col0: u32, acc: vec4f) {
  if (row >= p.m || col0 >= p.n) { return; }
  let idx = c_base + row * p.ldc + col0;
  var v = p.alpha * acc;
  if (DROP_AT == 3u) { v = v * drop4(batch * p.c_batch + row * p.ldc + col0 + p.c_off); }
  if (HAS_BIAS) {
    let o = col0 + p.c_off;
    v = v + vec4(bias[o], bias[o + 1u], bias[o + 2u], bias[o + 3u]);
  }
  if (ACCUMULATE) { v = v + c_v[idx >> 2u]; }
  c_v[idx >> 2u] = v;
}

fn drop4(idx: u32) -> vec4f {
  return vec4(drop_factor(idx), drop_factor(idx + 1u), drop_factor(idx + 2u), drop_factor(idx + 3u));
}

// A's elements idx..idx+3 (idx a multiple of 4).
fn a_vec(idx: u32) -> vec4f {
  let v = a_v[idx >> 2u];
  if (DROP_AT == 1u) { return v * drop4(idx); }
  return v;
}

// B's elements idx..idx+3 along a stored row (idx a multiple of 4), decoded from any WDTYPE.
fn b_vec(idx: u32) -> vec4f {
  var v: vec4f;
  if (WDTYPE == 0u) {
    v = bitcast<vec4f>(b_v[idx >> 2u]);
  } else if (WDTYPE == 1u) {
    v = vec4(unpack2x16float(b[idx >> 1u]), unpack2x16float(b[(idx >> 1u) + 1u]));
  } else if (WDTYPE == 2u) {
    let w0 = b[idx >> 1u];
    let w1 = b[(idx >> 1u) + 1u];
    v = bitcast<vec4f>(vec4(w0 << 16u, w0 & 0xffff0000u, w1 << 16u, w1 & 0xffff0000u));
  } else {
    v = weight4(idx);
  }
  if (DROP_AT == 2u) { return v * drop4(idx); }
  return v;
}

// Four rows' A values at one k: from the transposed k-vectors (A_T = 0) or one load (A_T = 1).
fn a_at_k(xt: vec4f, idx: u32) -> vec4f {
  if (A_T == 0u) { return xt; }
  return a_vec(idx);
}

// Four columns' B values at one k: from the transposed k-vectors (B_T = 1) or one load (B_T = 0).
fn b_at_k(wt: vec4f, idx: u32) -> vec4f {
  if (B_T == 1u) { return wt; }
  return b_vec(idx);
}

// One k of the 8×8 outer product: rows av (row0..row0+3) and ev (row0+4..row0+7) times columns
// bv (col0..col0+3) and dv (col0+4..col0+7). acc[2i] holds row0+i's first four columns, acc[2i+1] its last four.
fn outer(acc: ptr<function, array<vec4f, 16>>, av: vec4f, ev: vec4f, bv: vec4f, dv: vec4f) {
  (*acc)[0] = fma(vec4(av.x), bv, (*acc)[0]);
  (*acc)[1] = fma(vec4(av.x), dv, (*acc)[1]);
  (*acc)[2] = fma(vec4(av.y), bv, (*acc)[2]);
  (*acc)[3] = fma(vec4(av.y), dv, (*acc)[3]);
  (*acc)[4] = fma(vec4(av.z), bv, (*acc)[4]);
  (*acc)[5] = fma(vec4(av.z), dv, (*acc)[5]);
  (*acc)[6] = fma(vec4(av.w), bv, (*acc)[6]);
  (*acc)[7] = fma(vec4(av.w), dv, (*acc)[7]);
  (*acc)[8] = fma(vec4(ev.x), bv, (*acc)[8]);
  (*acc)[9] = fma(vec4(ev.x), dv, (*acc)[9]);
  (*acc)[10] = fma(vec4(ev.y), bv, (*acc)[10]);
  (*acc)[11] = fma(vec4(ev.y), dv, (*acc)[11]);
  (*acc)[12] = fma(vec4(ev.z), bv, (*acc)[12]);
  (*acc)[13] = fma(vec4(ev.z), dv, (*acc)[13]);
  (*acc)[14] = fma(vec4(ev.w), bv, (*acc)[14]);
  (*acc)[15] = fma(vec4(ev.w), dv, (*acc)[15]);
}

@compute @workgroup_size(64)
fn matmul_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let mt = micro_tile(wid, nwg, li);
  if (!mt.inside) { return; }
  // The second vector of four rows / columns starts at row4 / col4.
  let row4 = select(mt.row0, mt.row0 + 4u, mt.row0 + 4u < p.m);
  let col4 = select(mt.col0, mt.col0 + 4u, mt.col0 + 4u < p.n);

  // acc[2i], acc[2i + 1]: row row0 + i, its first and last four columns (see outer()).
  var acc: array<vec4f, 16>;
  for (var k4 = mt.k_begin; k4 < mt.k_end; k4 += 4u) {
    // Rows' k-vectors (A_T = 0) and columns' k-vectors (B_T = 1), loaded once per step of four.
    var x0 = vec4(0.0);
    var x1 = vec4(0.0);
    var x2 = vec4(0.0);
    var x3 = vec4(0.0);
    var x4 = vec4(0.0);
    var x5 = vec4(0.0);
    var x6 = vec4(0.0);
    var x7 = vec4(0.0);
    if (A_T == 0u) {
      x0 = a_vec(mt.a_base + mt.ra.x * p.lda + k4);
      x1 = a_vec(mt.a_base + mt.ra.y * p.lda + k4);
      x2 = a_vec(mt.a_base + mt.ra.z * p.lda + k4);
      x3 = a_vec(mt.a_base + mt.ra.w * p.lda + k4);
      x4 = a_vec(mt.a_base + mt.rb.x * p.lda + k4);
      x5 = a_vec(mt.a_base + mt.rb.y * p.lda + k4);
      x6 = a_vec(mt.a_base + mt.rb.z * p.lda + k4);
      x7 = a_vec(mt.a_base + mt.rb.w * p.lda + k4);
    }
    var w0 = vec4(0.0);
    var w1 = vec4(0.0);
    var w2 = vec4(0.0);
    var w3 = vec4(0.0);
    var w4 = vec4(0.0);
    var w5 = vec4(0.0);
    var w6 = vec4(0.0);
    var w7 = vec4(0.0);
    if (B_T == 1u) {
      w0 = b_vec(mt.b_base + mt.cb.x * p.ldb + k4);
      w1 = b_vec(mt.b_base + mt.cb.y * p.ldb + k4);
      w2 = b_vec(mt.b_base + mt.cb.z * p.ldb + k4);
      w3 = b_vec(mt.b_base + mt.cb.w * p.ldb + k4);
      w4 = b_vec(mt.b_base + mt.cc.x * p.ldb + k4);
      w5 = b_vec(mt.b_base + mt.cc.y * p.ldb + k4);
      w6 = b_vec(mt.b_base + mt.cc.z * p.ldb + k4);
      w7 = b_vec(mt.b_base + mt.cc.w * p.ldb + k4);
    }
    // Step t of the four: A_T = 0 / B_T = 1 take column t of the transposed row / column vectors;
    // A_T = 1 / B_T = 0 load the vectors of contraction index k4 + t.
    let xa = transpose(mat4x4f(x0, x1, x2, x3));
    let xe = transpose(mat4x4f(x4, x5, x6, x7));
    let wb = transpose(mat4x4f(w0, w1, w2, w3));
    let wd = transpose(mat4x4f(w4, w5, w6, w7));
    outer(&acc, a_at_k(xa[0], mt.a_base + k4 * p.lda + mt.row0), a_at_k(xe[0], mt.a_base + k4 * p.lda + row4),
          b_at_k(wb[0], mt.b_base + k4 * p.ldb + mt.col0), b_at_k(wd[0], mt.b_base + k4 * p.ldb + col4));
    outer(&acc, a_at_k(xa[1], mt.a_base + (k4 + 1u) * p.lda + mt.row0), a_at_k(xe[1], mt.a_base + (k4 + 1u) * p.lda + row4),
          b_at_k(wb[1], mt.b_base + (k4 + 1u) * p.ldb + mt.col0), b_at_k(wd[1], mt.b_base + (k4 + 1u) * p.ldb + col4));
    outer(&acc, a_at_k(xa[2], mt.a_base + (k4 + 2u) * p.lda + mt.row0), a_at_k(xe[2], mt.a_base + (k4 + 2u) * p.lda + row4),
          b_at_k(wb[2], mt.b_base + (k4 + 2u) * p.ldb + mt.col0), b_at_k(wd[2], mt.b_base + (k4 + 2u) * p.ldb + col4));
    outer(&acc, a_at_k(xa[3], mt.a_base + (k4 + 3u) * p.lda + mt.row0), a_at_k(xe[3], mt.a_base + (k4 + 3u) * p.lda + row4),
          b_at_k(wb[3], mt.b_base + (k4 + 3u) * p.ldb + mt.col0), b_at_k(wd[3], mt.b_base + (k4 + 3u) * p.ldb + col4));
  }

  let c_base = mt.c_base;
  store4(mt.batch, c_base, mt.row0 + 0u, mt.col0, acc[0]);
  store4(mt.batch, c_base, mt.row0 + 0u, mt.col0 + 4u, acc[1]);
  store4(mt.batch, c_base, mt.row0 + 1u, mt.col0, acc[2]);
  store4(mt.batch, c_base, mt.row0 + 1u, mt.col0 + 4u, acc[3]);
  store4(mt.batch, c_base, mt.row0 + 2u, mt.col0, acc[4]);
  store4(mt.batch, c_base, mt.row0 + 2u, mt.col0 + 4u, acc[5]);
  store4(mt.batch, c_base, mt.row0 + 3u, mt.col0, acc[6]);
  store4(mt.batch, c_base, mt.row0 + 3u, mt.col0 + 4u, acc[7]);
  store4(mt.batch, c_base, mt.row0 + 4u, mt.col0, acc[8]);
  store4(mt.batch, c_base, mt.row0 + 4u, mt.col0 + 4u, acc[9]);
  store4(mt.batch, c_base, mt.row0 + 5u, mt.col0, acc[10]);
  store4(mt.batch, c_base, mt.row0 + 5u, mt.col0 + 4u, acc[11]);
  store4(mt.batch, c_base, mt.row0 + 6u, mt.col0, acc[12]);
  store4(mt.batch, c_base, mt.row0 + 6u, mt.col0 + 4u, acc[13]);
  store4(mt.batch, c_base, mt.row0 + 7u, mt.col0, acc[14]);
  store4(mt.batch, c_base, mt.row0 + 7u, mt.col0 + 4u, acc[15]);
}
