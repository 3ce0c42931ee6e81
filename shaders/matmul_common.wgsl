// What the tiled (matmul.wgsl) and direct (matmul_direct.wgsl) kernels share, so the dispatch code
// can pick either by shape: storage orders, bias, accumulate and dropout placement as override
// constants, one uniform block, one set of bindings. Concatenated after weights.wgsl,
// weights_quant.wgsl and matmul_dropout.wgsl.
//
//   A_T = 0: A stored [M, K] (x, dY)          A_T = 1: A stored [K, M] (dYᵀ in dW = dYᵀ·x)
//   B_T = 0: B stored [K, N] (W in dY·W, x)   B_T = 1: B stored [N, K] (HF weight [out, in] in x·Wᵀ)
// B is bound as array<u32> and read through weight_at / weight4 (WDTYPE: f32, f16, bf16 or a ggml
// quantized type). A quantized B is always a frozen weight [out, in] (B_T = 1 in x·Wᵀ, B_T = 0 in
// dY·W) with whole blocks per row: K (B_T = 1) or N (B_T = 0) is a multiple of 32, so four
// consecutive elements along a row are decoded together.

override A_T: u32 = 0u;
override B_T: u32 = 0u;
override ACCUMULATE: bool = false;
override HAS_BIAS: bool = false;
// Where inverted dropout applies: 0 nowhere, 1 to A's elements, 2 to B's, 3 to the result.
// The mask index is the element's flat index in its own tensor.
override DROP_AT: u32 = 0u;

struct Params {
  m: u32, n: u32, k: u32, tiles_n: u32,
  tiles: u32, lda: u32, ldb: u32, ldc: u32,
  a_batch: u32, b_batch: u32, c_batch: u32, alpha: f32,
  drop_threshold: u32, drop_seed: u32, drop_scale: f32, k_chunk: u32,
  // a_off / c_off: element offsets into A and C (a row window of a weight reads the columns of
  // dY and writes the columns of y that its rows stand for; lda and ldc are the full widths).
  splits: u32, a_off: u32, c_off: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn weight_load(w: u32) -> u32 { return b[w]; }

fn drop_factor(index: u32) -> f32 {
  if (dropout_keep(p.drop_seed, index, p.drop_threshold)) { return p.drop_scale; }
  return 0.0;
}
