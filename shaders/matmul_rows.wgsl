// x·Wᵀ for a few rows (token-by-token generation, M ≤ 8): y[M, N] (+)= alpha · x[M, K] · W[N, K]ᵀ
// (+ bias[N]). At M = 1 the weight's bytes are the whole cost, so the kernel is built to stream
// them: every weight element is decoded once and multiplied into all M rows of x.
// Concatenated after common.wgsl, weights.wgsl, weights_quant.wgsl and weights_chunk.wgsl.
//
// A workgroup of 64 threads is 64 / TK groups of TK threads; a group owns one output column n
// (one weight row), and its TK threads stride along it side by side, so together they read the
// row contiguously: float weights four elements at a time, quantized ones a 32-element chunk at a
// time (its scales decoded once, then Σ x·q and Σ x per half; weights_chunk.wgsl). Each thread
// keeps M sums; the TK partial sums of a group are then added in workgroup memory (a tree,
// log2(TK) barriers). TK = 1 needs no workgroup memory and no barrier (CPU adapters, short K).
// A column past N reads the last weight row and is not stored. K need not be a multiple of 4 for
// float weights (the last K % 4 elements are read one at a time); quantized rows are whole blocks.

// ROWS = 1 for one row of x (generation), else 8 with the rows past M skipped at run time: CPU
// compilers keep a single-row kernel free of the other rows' branches.
override ROWS: u32 = 8u;
override TK: u32 = 64u;
override ACCUMULATE: bool = false;
override HAS_BIAS: bool = false;

struct Params {
  m: u32, n: u32, k: u32, groups: u32,
  // lda / ldc: row strides of x and y; c_off: element offset into y and bias (a row window of a
  // weight writes the columns of y its rows stand for).
  lda: u32, ldc: u32, c_off: u32, alpha: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn weight_load(i: u32) -> u32 { return w[i]; }

const WG = 64u;
const MAX_ROWS = 8u;
// [WG, MAX_ROWS] partial sums while the groups add theirs.
var<workgroup> part: array<f32, 512>;

fn x4(row: u32, k: u32) -> vec4f {
  let o = row * p.lda + k;
  return vec4(x[o], x[o + 1u], x[o + 2u], x[o + 3u]);
}

// (Σ x·q, Σ x) over the 16 elements of x's row from k, q's columns holding their integers.
fn half_dot(row: u32, k: u32, q: mat4x4f) -> vec2f {
  let x0 = x4(row, k);
  let x1 = x4(row, k + 4u);
  let x2 = x4(row, k + 8u);
  let x3 = x4(row, k + 12u);
  let xq = (x0 * q[0] + x1 * q[1]) + (x2 * q[2] + x3 * q[3]);
  return vec2(dot(xq, vec4(1.0)), dot((x0 + x1) + (x2 + x3), vec4(1.0)));
}

// Σ x·w over a 32-element chunk from k: integers lo (first half), hi (second), chunk_scales s.
fn chunk_dot(row: u32, k: u32, lo: mat4x4f, hi: mat4x4f, s: vec4f) -> f32 {
  let a = half_dot(row, k, lo);
  let b = half_dot(row, k + 16u, hi);
  return (s.x * a.x + s.z * a.y) + (s.y * b.x + s.w * b.y);
}

fn store(row: u32, col: u32, sum: f32) {
  let idx = row * p.ldc + col + p.c_off;
  var v = p.alpha * sum;
  if (HAS_BIAS) { v = v + bias[col + p.c_off]; }
  if (ACCUMULATE) { v = v + y[idx]; }
  y[idx] = v;
}

@compute @workgroup_size(64)
fn matmul_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let group = linear_workgroup(wid, nwg);
  if (group >= p.groups) { return; }
  let tk = li % TK;
  let col = group * (WG / TK) + li / TK;
  let rw = min(col, p.n - 1u) * p.k; // the weight row's first element

  // Row r's sum in a_r (unrolled: CPU compilers keep indexed arrays in memory).
  var a0 = 0.0;
  var a1 = 0.0;
  var a2 = 0.0;
  var a3 = 0.0;
  var a4 = 0.0;
  var a5 = 0.0;
  var a6 = 0.0;
  var a7 = 0.0;
  if (weight_quantized()) {
    for (var k = 32u * tk; k < p.k; k += 32u * TK) {
      let i = rw + k;
      let s = chunk_scales(i);
      let lo = mat4x4f(chunk_q(i, 0u), chunk_q(i, 1u), chunk_q(i, 2u), chunk_q(i, 3u));
      let hi = mat4x4f(chunk_q(i, 4u), chunk_q(i, 5u), chunk_q(i, 6u), chunk_q(i, 7u));
      a0 += chunk_dot(0u, k, lo, hi, s);
      if (ROWS > 1u && p.m > 1u) { a1 += chunk_dot(1u, k, lo, hi, s); }
      if (ROWS > 2u && p.m > 2u) { a2 += chunk_dot(2u, k, lo, hi, s); }
      if (ROWS > 3u && p.m > 3u) { a3 += chunk_dot(3u, k, lo, hi, s); }
      if (ROWS > 4u && p.m > 4u) { a4 += chunk_dot(4u, k, lo, hi, s); }
      if (ROWS > 5u && p.m > 5u) { a5 += chunk_dot(5u, k, lo, hi, s); }
      if (ROWS > 6u && p.m > 6u) { a6 += chunk_dot(6u, k, lo, hi, s); }
      if (ROWS > 7u && p.m > 7u) { a7 += chunk_dot(7u, k, lo, hi, s); }
    }
  } else {
    let k4_end = p.k & ~3u;
    for (var k = 4u * tk; k < k4_end; k += 4u * TK) {
      let wv = weight4(rw + k);
      a0 += dot(x4(0u, k), wv);
      if (ROWS > 1u && p.m > 1u) { a1 += dot(x4(1u, k), wv); }
      if (ROWS > 2u && p.m > 2u) { a2 += dot(x4(2u, k), wv); }
      if (ROWS > 3u && p.m > 3u) { a3 += dot(x4(3u, k), wv); }
      if (ROWS > 4u && p.m > 4u) { a4 += dot(x4(4u, k), wv); }
      if (ROWS > 5u && p.m > 5u) { a5 += dot(x4(5u, k), wv); }
      if (ROWS > 6u && p.m > 6u) { a6 += dot(x4(6u, k), wv); }
      if (ROWS > 7u && p.m > 7u) { a7 += dot(x4(7u, k), wv); }
    }
    // K % 4 ≠ 0: the last elements, one at a time.
    for (var k = k4_end + tk; k < p.k; k += TK) {
      let wv = weight_at(rw + k);
      a0 += x[k] * wv;
      if (ROWS > 1u && p.m > 1u) { a1 += x[p.lda + k] * wv; }
      if (ROWS > 2u && p.m > 2u) { a2 += x[2u * p.lda + k] * wv; }
      if (ROWS > 3u && p.m > 3u) { a3 += x[3u * p.lda + k] * wv; }
      if (ROWS > 4u && p.m > 4u) { a4 += x[4u * p.lda + k] * wv; }
      if (ROWS > 5u && p.m > 5u) { a5 += x[5u * p.lda + k] * wv; }
      if (ROWS > 6u && p.m > 6u) { a6 += x[6u * p.lda + k] * wv; }
      if (ROWS > 7u && p.m > 7u) { a7 += x[7u * p.lda + k] * wv; }
    }
  }
  let acc = array(a0, a1, a2, a3, a4, a5, a6, a7);

  if (TK == 1u) {
    if (col < p.n) {
      for (var r = 0u; r < p.m; r++) { store(r, col, acc[r]); }
    }
    return;
  }
  for (var r = 0u; r < p.m; r++) { part[li * MAX_ROWS + r] = acc[r]; }
  workgroupBarrier();
  for (var s = TK / 2u; s > 0u; s >>= 1u) {
    if (tk < s) {
      for (var r = 0u; r < p.m; r++) { part[li * MAX_ROWS + r] += part[(li + s) * MAX_ROWS + r]; }
    }
    workgroupBarrier();
  }
  // The group's first thread holds its sums; its threads store one row each.
  if (col >= p.n) { return; }
  let first = (li - tk) * MAX_ROWS;
  for (var r = tk; r < p.m; r += TK) { store(r, col, part[first + r]); }
}
