// Frozen weights keep their source precision. They are bound as array<u32> and unpacked here:
// WDTYPE 0 = f32 (one word per element), 1 = f16 and 2 = bf16 (two elements per word, low half
// first). unpack2x16float needs no `shader-f16` feature. WDTYPE 3 and up are ggml's quantized
// blocks, decoded by weights_quant.wgsl (matmul and embedding kernels only).
override WDTYPE: u32 = 0u;

fn weight_word(i: u32) -> u32 {
  if (WDTYPE == 0u) { return i; }
  return i >> 1u;
}

fn weight_value(word: u32, i: u32) -> f32 {
  if (WDTYPE == 0u) { return bitcast<f32>(word); }
  let half = (word >> ((i & 1u) * 16u)) & 0xffffu;
  if (WDTYPE == 1u) { return unpack2x16float(half).x; }
  return bitcast<f32>(half << 16u);
}

