// ggml's quantized weights read 32 elements (a chunk) at a time (WDTYPE 3..12), for kernels that
// stream whole weight rows (matmul_rows.wgsl). Every element of a chunk is scale · q + offset with
// one (scale, offset) per 16-element half, so a dot product with x needs the chunk's scales once
// and, per half, only Σ x·q and Σ x — the scales are decoded once per 32 elements, not per 4.
// Layouts as in weights_quant.wgsl and src/io/ggml-dequant.ts; concatenated after it.
// i is the chunk's first element (a multiple of 32: rows are whole blocks).

// (scale of the first half, of the second, offset of the first, of the second).
fn chunk_scales(i: u32) -> vec4f {
  if (WDTYPE < 8u) {
    let blk = i / 32u;
    if (WDTYPE == 7u) { return vec4(vec2(whalf(blk * 34u)), 0.0, 0.0); } // Q8_0: d | qs[32]
    if (WDTYPE == 3u) { let d = whalf(blk * 18u); return vec4(d, d, -8.0 * d, -8.0 * d); } // Q4_0: d | qs[16]
    if (WDTYPE == 5u) { let d = whalf(blk * 22u); return vec4(d, d, -16.0 * d, -16.0 * d); } // Q5_0: d | qh | qs[16]
    // Q4_1: d | m | qs[16];  Q5_1: d | m | qh | qs[16]
    let o = select(blk * 20u, blk * 24u, WDTYPE == 6u);
    return vec4(vec2(whalf(o)), vec2(whalf(o + 2u)));
  }
  let blk = i / 256u;
  let e = i % 256u;
  let j = e / 16u; // the first half's 16-element scale group
  if (WDTYPE == 8u) { // Q2_K: scales[16] | qs[64] | d | dmin
    let o = blk * 84u;
    let sc = vec2u(wbyte(o + j), wbyte(o + j + 1u));
    return vec4(whalf(o + 80u) * vec2f(sc & vec2u(0xfu)), -whalf(o + 82u) * vec2f(sc >> vec2u(4u)));
  }
  if (WDTYPE == 9u) { // Q3_K: hmask[32] | qs[64] | scales[12] | d; value d·sc·(q − 4)
    let o = blk * 110u;
    let jj = vec2u(j, j + 1u);
    let low = select(vec2u(wbyte(o + 96u + j), wbyte(o + 97u + j)) & vec2u(0xfu), vec2u(wbyte(o + 88u + j), wbyte(o + 89u + j)) >> vec2u(4u), jj >= vec2u(8u));
    let high = (vec2u(wbyte(o + 104u + jj.x % 4u), wbyte(o + 104u + jj.y % 4u)) >> (2u * (jj / 4u))) & vec2u(3u);
    let ds = whalf(o + 108u) * vec2f(vec2i(low | (high << vec2u(4u))) - vec2i(32));
    return vec4(ds, -4.0 * ds);
  }
  if (WDTYPE == 10u || WDTYPE == 11u) { // Q4_K: d | dmin | scales[12] | qs[128];  Q5_K: … | qh[32] | qs[128]
    let o = select(blk * 144u, blk * 176u, WDTYPE == 11u);
    let sm = scale_min_k4(o + 4u, e / 32u);
    return vec4(vec2(whalf(o) * sm.x), vec2(-whalf(o + 2u) * sm.y));
  }
  // Q6_K: ql[128] | qh[64] | scales[16] (int8) | d; value d·sc·(q − 32)
  let o = blk * 210u;
  let sc = vec2f(vec2i(i32(wbyte(o + 192u + j)) << 24u, i32(wbyte(o + 193u + j)) << 24u) >> vec2u(24u));
  let ds = whalf(o + 208u) * sc;
  return vec4(ds, -32.0 * ds);
}

// The integers q of elements 4t..4t+3 of the chunk at i (t < 4: first half).
fn chunk_q(i: u32, t: u32) -> vec4f {
  if (WDTYPE < 8u) {
    let blk = i / 32u;
    if (WDTYPE == 7u) { return int8x4(wbytes4(blk * 34u + 2u + 4u * t)); } // Q8_0
    // 4-bit quants: element e < 16 in the low nibble of byte e, e ≥ 16 in the high nibble of byte e − 16.
    // qs at 2 (Q4_0), 4 (Q4_1), 6 (Q5_0), 8 (Q5_1) of blocks of 18, 20, 22, 24 bytes.
    let v = max(WDTYPE, 3u) - 3u;
    let qs = blk * (18u + 2u * v) + 2u + 2u * v;
    var q = fields(wbytes4(qs + 4u * (t % 4u)), select(0u, 4u, t >= 4u), 0xfu);
    if (WDTYPE == 5u || WDTYPE == 6u) { // Q5: the fifth bit of element e is bit e of qh (4 bytes before qs)
      let h = wbytes4(qs - 4u) >> (4u * t);
      q += 16.0 * vec4f(vec4u(h, h >> 1u, h >> 2u, h >> 3u) & vec4u(1u));
    }
    return q;
  }
  let blk = i / 256u;
  let e = i % 256u;
  let half128 = e / 128u;
  let row = (e % 128u) / 32u; // Q2_K, Q3_K, Q6_K: which bit pair of the shared bytes
  let l = 4u * t;
  if (WDTYPE == 8u) { return fields(wbytes4(blk * 84u + 16u + 32u * half128 + l), 2u * row, 3u); }
  if (WDTYPE == 9u) {
    let o = blk * 110u;
    return fields(wbytes4(o + 32u + 32u * half128 + l), 2u * row, 3u) + 4.0 * fields(wbytes4(o + l), 4u * half128 + row, 1u);
  }
  if (WDTYPE == 10u || WDTYPE == 11u) {
    let o = select(blk * 144u, blk * 176u, WDTYPE == 11u);
    let qs = select(o + 16u, o + 48u, WDTYPE == 11u) + 32u * (e / 64u);
    var q = fields(wbytes4(qs + l), select(0u, 4u, (e & 32u) != 0u), 0xfu);
    if (WDTYPE == 11u) { q += 16.0 * fields(wbytes4(o + 16u + l), e / 32u, 1u); }
    return q;
  }
  let o = blk * 210u;
  let ql = fields(wbytes4(o + 64u * half128 + 32u * (row & 1u) + l), select(0u, 4u, row >= 2u), 0xfu);
  return ql + 16.0 * fields(wbytes4(o + 128u + 32u * half128 + l), 2u * row, 3u);
}
