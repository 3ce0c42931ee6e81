// ggml's quantized blocks as frozen weights (WDTYPE 3..12), byte-packed exactly as in the GGUF
// file (a Q4_0 block is 18 bytes, so blocks start at any even byte); layouts as in
// src/io/ggml-dequant.ts. Concatenated after weights.wgsl.
//   3 Q4_0, 4 Q4_1, 5 Q5_0, 6 Q5_1, 7 Q8_0 (32 elements), 8 Q2_K, 9 Q3_K, 10 Q4_K, 11 Q5_K, 12 Q6_K (256).
// Rows are whole blocks, so element i of a row-major [rows, cols] weight lies in block i / QK at
// element i % QK. weight4(i) decodes the four elements i..i+3 (i a multiple of 4): they share a
// block, a scale group and consecutive quant bytes, so the scales are read once for the four.
//
// The kernel defines `fn weight_load(w: u32) -> u32` (word w of its weight binding): WGSL
// functions cannot take storage arrays as arguments. weight4 and weight_at serve every WDTYPE.

fn weight_quantized() -> bool { return WDTYPE >= 3u; }

// Four bytes from byte offset o (any alignment), little-endian: byte o in bits 0..7.
fn wbytes4(o: u32) -> u32 {
  let s = (o & 3u) * 8u;
  let lo = weight_load(o >> 2u);
  if (s == 0u) { return lo; }
  return (lo >> s) | (weight_load((o >> 2u) + 1u) << (32u - s));
}

fn wbyte(o: u32) -> u32 { return (weight_load(o >> 2u) >> ((o & 3u) * 8u)) & 0xffu; }

// The f16 at even byte offset o (every f16 field of every block is at an even offset).
fn whalf(o: u32) -> f32 { return unpack2x16float((weight_load(o >> 2u) >> ((o & 2u) * 8u)) & 0xffffu).x; }

// The 4 bytes of a packed u32 as a vec4, each shifted right by `shift` and masked.
fn fields(w: u32, shift: u32, mask: u32) -> vec4f {
  return vec4f(vec4u(w >> shift, w >> (shift + 8u), w >> (shift + 16u), w >> (shift + 24u)) & vec4u(mask));
}

fn int8x4(w: u32) -> vec4f {
  return vec4f(vec4i(i32(w << 24u), i32(w << 16u), i32(w << 8u), i32(w)) >> vec4u(24u));
}

// Q4_K / Q5_K: the 6-bit scale and min of group j (scales at byte o), ggml's get_scale_min_k4.
fn scale_min_k4(o: u32, j: u32) -> vec2f {
  if (j < 4u) { return vec2f(f32(wbyte(o + j) & 63u), f32(wbyte(o + j + 4u) & 63u)); }
  let b = wbyte(o + j + 4u);
  return vec2f(f32((b & 0xfu) | ((wbyte(o + j - 4u) >> 6u) << 4u)), f32((b >> 4u) | ((wbyte(o + j) >> 6u) << 4u)));
}

fn weight4_q32(i: u32) -> vec4f {
  let blk = i / 32u;
  let e = i % 32u;
  if (WDTYPE == 7u) { // Q8_0: d | qs[32]
    let o = blk * 34u;
    return whalf(o) * int8x4(wbytes4(o + 2u + e));
  }
  let shift = select(0u, 4u, e >= 16u);
  if (WDTYPE == 3u) { // Q4_0: d | qs[16]
    let o = blk * 18u;
    return whalf(o) * (fields(wbytes4(o + 2u + (e & 15u)), shift, 0xfu) - 8.0);
  }
  if (WDTYPE == 4u) { // Q4_1: d | m | qs[16]
    let o = blk * 20u;
    return whalf(o) * fields(wbytes4(o + 4u + (e & 15u)), shift, 0xfu) + whalf(o + 2u);
  }
  // Q5_0: d | qh | qs[16];  Q5_1: d | m | qh | qs[16]. Element e's fifth bit is bit e of qh.
  let o = select(blk * 22u, blk * 24u, WDTYPE == 6u);
  let qo = select(o + 2u, o + 4u, WDTYPE == 6u);
  let qh = wbytes4(qo) >> e;
  let high = vec4f(vec4u(qh, qh >> 1u, qh >> 2u, qh >> 3u) & vec4u(1u)) * 16.0;
  let q = fields(wbytes4(qo + 4u + (e & 15u)), shift, 0xfu) + high;
  if (WDTYPE == 5u) { return whalf(o) * (q - 16.0); }
  return whalf(o) * q + whalf(o + 2u);
}

fn weight4_k(i: u32) -> vec4f {
  let blk = i / 256u;
  let e = i % 256u;
  let half128 = e / 128u;
  let row = (e % 128u) / 32u; // Q2_K, Q3_K, Q6_K: which bit pair of the shared bytes
  let l = e % 32u;
  if (WDTYPE == 8u) { // Q2_K: scales[16] | qs[64] | d | dmin
    let o = blk * 84u;
    let sc = wbyte(o + e / 16u);
    let q = fields(wbytes4(o + 16u + 32u * half128 + l), 2u * row, 3u);
    return whalf(o + 80u) * f32(sc & 0xfu) * q - whalf(o + 82u) * f32(sc >> 4u);
  }
  if (WDTYPE == 9u) { // Q3_K: hmask[32] | qs[64] | scales[12] | d
    let o = blk * 110u;
    let j = e / 16u;
    let low = select(wbyte(o + 96u + j) & 0xfu, wbyte(o + 88u + j) >> 4u, j >= 8u);
    let high = (wbyte(o + 104u + (j % 4u)) >> (2u * (j / 4u))) & 3u;
    let sc = f32(i32(low | (high << 4u)) - 32);
    let q = fields(wbytes4(o + 32u + 32u * half128 + l), 2u * row, 3u);
    let h = fields(wbytes4(o + l), 4u * half128 + row, 1u);
    return whalf(o + 108u) * sc * (q - 4.0 + 4.0 * h);
  }
  if (WDTYPE == 10u || WDTYPE == 11u) {
    // Q4_K: d | dmin | scales[12] | qs[128];  Q5_K: d | dmin | scales[12] | qh[32] | qs[128].
    let o = select(blk * 144u, blk * 176u, WDTYPE == 11u);
    let g = e / 32u;
    let sm = scale_min_k4(o + 4u, g);
    let qs = select(o + 16u, o + 48u, WDTYPE == 11u);
    var q = fields(wbytes4(qs + 32u * (e / 64u) + l), select(0u, 4u, (e & 32u) != 0u), 0xfu);
    if (WDTYPE == 11u) { q = q + 16.0 * fields(wbytes4(o + 16u + l), g, 1u); }
    return whalf(o) * sm.x * q - whalf(o + 2u) * sm.y;
  }
  // Q6_K: ql[128] | qh[64] | scales[16] (int8) | d
  let o = blk * 210u;
  let ql = fields(wbytes4(o + 64u * half128 + l + 32u * (row & 1u)), select(0u, 4u, row >= 2u), 0xfu);
  let qh = fields(wbytes4(o + 128u + 32u * half128 + l), 2u * row, 3u);
  let sc = f32((i32(wbyte(o + 192u + e / 16u)) << 24u) >> 24u);
  return whalf(o + 208u) * sc * (ql + 16.0 * qh - 32.0);
}

// Elements i..i+3 of the weight (i a multiple of 4), any WDTYPE.
fn weight4(i: u32) -> vec4f {
  if (WDTYPE >= 8u) { return weight4_k(i); }
  if (WDTYPE >= 3u) { return weight4_q32(i); }
  return vec4f(weight_float(i), weight_float(i + 1u), weight_float(i + 2u), weight_float(i + 3u));
}

fn weight_float(i: u32) -> f32 { return weight_value(weight_load(weight_word(i)), i); }

// Element i of the weight, any WDTYPE (quantized: decodes its group of four and picks one).
fn weight_at(i: u32) -> f32 {
  if (WDTYPE >= 8u) { return weight4_k(i & ~3u)[i & 3u]; }
  if (WDTYPE >= 3u) { return weight4_q32(i & ~3u)[i & 3u]; }
  return weight_float(i);
}
