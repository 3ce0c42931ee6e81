// x·Wᵀ for a few rows (token-by-token generation, M ≤ 8): y[M, N] (+)= alpha · x[M, K] · W[N, K]ᵀ
// (+ bias[N]). At M = 1 the weight's bytes are the whole cost, so the kernel is built to stream
// them: every weight element is decoded once and multiplied into all M rows held in registers.
// Concatenated after common.wgsl, weights.wgsl and weights_quant.wgsl (W in any WDTYPE).
//
// A workgroup of 64 threads is 64 / TK groups of TK threads; a group owns four consecutive output
// columns n (four weight rows) and its TK threads stride along K four elements at a time, so side
// by side they read each weight row contiguously (weight4 decodes four elements with one scale
// read). Each thread keeps M vec4 sums, one per row of x, the four lanes the four columns;
// the TK partial sums of a group are then added in workgroup memory (a tree, log2(TK) barriers).
// TK = 1 needs no workgroup memory and no barrier (CPU adapters, short K).
// Columns past N read a clamped (valid) weight row and are not stored. K need not be a multiple
// of 4 for float weights (the last K % 4 elements are read one at a time); quantized rows are
// whole blocks.

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
// [WG, MAX_ROWS] partial sums (four columns each) while the groups add theirs.
var<workgroup> part: array<vec4f, 512>;

fn x4(row: u32, k: u32) -> vec4f {
  let o = row * p.lda + k;
  return vec4(x[o], x[o + 1u], x[o + 2u], x[o + 3u]);
}

fn store(row: u32, col0: u32, sums: vec4f) {
  for (var q = 0u; q < 4u; q++) {
    let col = col0 + q;
    if (col >= p.n) { return; }
    let idx = row * p.ldc + col + p.c_off;
    var v = p.alpha * sums[q];
    if (HAS_BIAS) { v = v + bias[col + p.c_off]; }
    if (ACCUMULATE) { v = v + y[idx]; }
    y[idx] = v;
  }
}

@compute @workgroup_size(64)
fn matmul_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let group = linear_workgroup(wid, nwg);
  if (group >= p.groups) { return; }
  let tk = li % TK;
  let col0 = (group * (WG / TK) + li / TK) * 4u;
  let last = p.n - 1u;
  // Element offsets of the four weight rows (clamped past N).
  let r0 = min(col0, last) * p.k;
  let r1 = min(col0 + 1u, last) * p.k;
  let r2 = min(col0 + 2u, last) * p.k;
  let r3 = min(col0 + 3u, last) * p.k;

  // Row r's four column sums in a_r (unrolled: CPU compilers keep indexed arrays in memory).
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  var a4 = vec4(0.0);
  var a5 = vec4(0.0);
  var a6 = vec4(0.0);
  var a7 = vec4(0.0);
  let k4_end = p.k & ~3u;
  for (var k = 4u * tk; k < k4_end; k += 4u * TK) {
    let w = mat4x4f(weight4(r0 + k), weight4(r1 + k), weight4(r2 + k), weight4(r3 + k));
    a0 += x4(0u, k) * w;
    if (p.m > 1u) { a1 += x4(1u, k) * w; }
    if (p.m > 2u) { a2 += x4(2u, k) * w; }
    if (p.m > 3u) { a3 += x4(3u, k) * w; }
    if (p.m > 4u) { a4 += x4(4u, k) * w; }
    if (p.m > 5u) { a5 += x4(5u, k) * w; }
    if (p.m > 6u) { a6 += x4(6u, k) * w; }
    if (p.m > 7u) { a7 += x4(7u, k) * w; }
  }
  // K % 4 ≠ 0 (float weights): the last elements, one at a time.
  for (var kt = k4_end + tk; kt < p.k; kt += TK) {
    let wv = vec4(weight_at(r0 + kt), weight_at(r1 + kt), weight_at(r2 + kt), weight_at(r3 + kt));
    a0 += x[kt] * wv;
    if (p.m > 1u) { a1 += x[p.lda + kt] * wv; }
    if (p.m > 2u) { a2 += x[2u * p.lda + kt] * wv; }
    if (p.m > 3u) { a3 += x[3u * p.lda + kt] * wv; }
    if (p.m > 4u) { a4 += x[4u * p.lda + kt] * wv; }
    if (p.m > 5u) { a5 += x[5u * p.lda + kt] * wv; }
    if (p.m > 6u) { a6 += x[6u * p.lda + kt] * wv; }
    if (p.m > 7u) { a7 += x[7u * p.lda + kt] * wv; }
  }
  let acc = array(a0, a1, a2, a3, a4, a5, a6, a7);

  if (TK == 1u) {
    if (col0 < p.n) {
      for (var r = 0u; r < p.m; r++) { store(r, col0, acc[r]); }
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
  if (col0 >= p.n) { return; }
  let first = (li - tk) * MAX_ROWS;
  for (var r = tk; r < p.m; r += TK) { store(r, col0, part[first + r]); }
}
