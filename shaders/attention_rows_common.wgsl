// What the one-thread-per-row attention kernels (attention_rows*.wgsl, D ≤ 16) share: a row is
// held as HD4 = ⌈HD / 4⌉ vectors of four in registers (zeros past HD). Rows are read a vector at a
// time through q_chunk, k_chunk, v_chunk (and dout_chunk), which come from
// attention_rows_vec4.wgsl when HD is a multiple of 4 (one load per vector, the same bindings
// declared as vec4 arrays: CPU implementations check the bounds of every load, so this is most of
// their cost) or from attention_rows_scalar.wgsl. A pipeline uses one set of bindings, so the
// kernels stay within WebGPU's default 8 storage buffers per stage.
// Concatenated after common.wgsl and attention_common.wgsl.

// The head dimension D, fixed per pipeline so the row loops unroll into registers.
override HD: u32 = 16u;
override HD4: u32 = (HD + 3u) / 4u;

// Element e of a row, or 0 past its end (the four elements of chunk c are e = 4c..4c+3).
fn in_row(c: u32) -> vec4<bool> {
  return vec4(4u * c, 4u * c + 1u, 4u * c + 2u, 4u * c + 3u) < vec4(HD);
}

// Element d of a row held as four vectors.
fn pick(r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, d: u32) -> f32 {
  let c = d / 4u;
  return select(select(r0, r1, c == 1u), select(r2, r3, c == 3u), c >= 2u)[d % 4u];
}
