// Tiled matrix multiply, f32 compute: C[M, N] (+)= alpha · A[M, K] · B[K, N] (+ bias[N]),
// batched over workgroup z. Concatenated after common.wgsl, weights.wgsl, weights_quant.wgsl,
// matmul_dropout.wgsl and matmul_common.wgsl (storage orders, uniforms, bindings).
//
// Each workgroup computes a 64×64 tile of C; its 16×16 = 256 threads each hold a 4×4 micro-tile
// in registers (rows 4·ty.., cols 4·tx..). K is walked 16 at a time: the threads load a 64×16
// tile of A and of B into workgroup memory with coalesced reads (k-major, rows padded to 68
// floats so the transposing stores spread over banks), then each reads one vec4 of each per k.
// Out-of-range elements load as 0 and are not stored, so any M, N, K works. A quantized B is
// loaded four consecutive elements of a weight row per thread (load_b_quant), one pass per k step.

const TM = 64u;
const TN = 64u;
const TK = 16u;
const ROW4 = 17u; // vec4s per padded workgroup-memory row (68 floats)

var<workgroup> As: array<vec4<f32>, 272>; // [TK][ROW4]: As[k][i] = A[row0 + i, k0 + k]
var<workgroup> Bs: array<vec4<f32>, 272>; // [TK][ROW4]: Bs[k][j] = B[k0 + k, col0 + j]

fn load_a(base: u32, i: u32, kk: u32, k_end: u32) -> f32 {
  if (i >= p.m || kk >= k_end) { return 0.0; }
  var idx = base + i * p.lda + kk;
  if (A_T == 1u) { idx = base + kk * p.lda + i; }
  var v = a[idx];
  if (DROP_AT == 1u) { v = v * drop_factor(idx); }
  return v;
}

fn load_b(base: u32, kk: u32, j: u32, k_end: u32) -> f32 {
  if (kk >= k_end || j >= p.n) { return 0.0; }
  var idx = base + kk * p.ldb + j;
  if (B_T == 1u) { idx = base + j * p.ldb + kk; }
  var v = weight_at(idx);
  if (DROP_AT == 2u) { v = v * drop_factor(idx); }
  return v;
}

fn set_a(kk: u32, i: u32, v: f32) { As[kk * ROW4 + (i >> 2u)][i & 3u] = v; }
fn set_b(kk: u32, j: u32, v: f32) { Bs[kk * ROW4 + (j >> 2u)][j & 3u] = v; }

// The 16×64 tile of a quantized B from k0: each thread decodes 4 elements that share a scale.
fn load_b_quant(base: u32, k0: u32, col0: u32, k_end: u32, li: u32) {
  if (B_T == 1u) { // W [N, K]: row col0 + li/4, k from k0 + 4·(li % 4)
    let j = li / 4u;
    let kq = 4u * (li % 4u);
    var v = vec4(0.0);
    if (col0 + j < p.n && k0 + kq < k_end) { v = weight4(base + (col0 + j) * p.ldb + k0 + kq); }
    set_b(kq, j, v.x);
    set_b(kq + 1u, j, v.y);
    set_b(kq + 2u, j, v.z);
    set_b(kq + 3u, j, v.w);
    return;
  }
  let kk = li / 16u; // W [K, N]: row k0 + li/16, columns from col0 + 4·(li % 16)
  let jq = 4u * (li % 16u);
  var v = vec4(0.0);
  if (k0 + kk < k_end && col0 + jq < p.n) { v = weight4(base + (k0 + kk) * p.ldb + col0 + jq); }
  Bs[kk * ROW4 + (jq >> 2u)] = v;
}

@compute @workgroup_size(256)
fn matmul(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = linear_workgroup(wid, nwg);
  if (tile >= p.tiles) { return; }
  let row0 = (tile / p.tiles_n) * TM;
  let col0 = (tile % p.tiles_n) * TN;
  // z = batch · splits + part. Split-K: part s sums k in [s·k_chunk, (s+1)·k_chunk) into its own
  // [M, N] slab of c (a scratch buffer that matmul_reduce.wgsl then sums).
  let batch = wid.z / p.splits;
  let k_begin = (wid.z % p.splits) * p.k_chunk;
  let k_end = min(p.k, k_begin + p.k_chunk);
  let a_base = batch * p.a_batch + p.a_off;
  let b_base = batch * p.b_batch;
  let c_base = wid.z * p.c_batch + p.c_off;
  let tx = li % 16u;
  let ty = li / 16u;

  // Load roles: per pass q, 256 threads load 256 elements of each operand, consecutive threads
  // reading consecutive addresses. Contiguous along k (A_T = 0, B_T = 1): thread → (row li/16 + 16q,
  // k li%16). Contiguous along the 64-wide side: thread → (k li/64 + 4q, row li%64).
  let r_outer = li / 16u;
  let k_outer = li % 16u;
  let k_inner = li / 64u;
  let r_inner = li % 64u;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = k_begin; k0 < k_end; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      if (A_T == 0u) {
        set_a(k_outer, r_outer + 16u * q, load_a(a_base, row0 + r_outer + 16u * q, k0 + k_outer, k_end));
      } else {
        set_a(k_inner + 4u * q, r_inner, load_a(a_base, row0 + r_inner, k0 + k_inner + 4u * q, k_end));
      }
      if (weight_quantized()) { continue; }
      if (B_T == 1u) {
        set_b(k_outer, r_outer + 16u * q, load_b(b_base, k0 + k_outer, col0 + r_outer + 16u * q, k_end));
      } else {
        set_b(k_inner + 4u * q, r_inner, load_b(b_base, k0 + k_inner + 4u * q, col0 + r_inner, k_end));
      }
    }
    if (weight_quantized()) { load_b_quant(b_base, k0, col0, k_end, li); }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let av = As[kk * ROW4 + ty];
      let bv = Bs[kk * ROW4 + tx];
      acc[0] = fma(vec4(av.x), bv, acc[0]);
      acc[1] = fma(vec4(av.y), bv, acc[1]);
      acc[2] = fma(vec4(av.z), bv, acc[2]);
      acc[3] = fma(vec4(av.w), bv, acc[3]);
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < 4u; r++) {
    let row = row0 + ty * 4u + r;
    if (row >= p.m) { break; }
    for (var q = 0u; q < 4u; q++) {
      let col = col0 + tx * 4u + q;
      if (col >= p.n) { break; }
      let idx = c_base + row * p.ldc + col;
      var v = p.alpha * acc[r][q];
      // The mask follows the element's index in the final output, not in a split-K slab.
      if (DROP_AT == 3u) { v = v * drop_factor(batch * p.c_batch + row * p.ldc + col + p.c_off); }
      if (HAS_BIAS) { v = v + bias[col + p.c_off]; }
      if (ACCUMULATE) { v = v + c[idx]; }
      c[idx] = v;
    }
  }
}
