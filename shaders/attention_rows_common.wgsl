// What the one-thread-per-row attention kernels (attention_rows*.wgsl, D ≤ 16) share: a row is
// held as HD4 = ⌈HD / 4⌉ vectors of four (zeros past HD), and q, k, v are also bound as vec4
// arrays (bindings 9–11 alias 1–3). When HD is a multiple of 4 (VEC) a row's four elements come in
// one load; CPU implementations check the bounds of every load, so this is most of their cost.
// Concatenated after common.wgsl and attention_common.wgsl.

@group(0) @binding(9) var<storage, read> q4: array<vec4f>;
@group(0) @binding(10) var<storage, read> k4: array<vec4f>;
@group(0) @binding(11) var<storage, read> v4: array<vec4f>;

// The head dimension D, fixed per pipeline so the row loops unroll into registers.
override HD: u32 = 16u;
override HD4: u32 = (HD + 3u) / 4u;
override VEC: bool = (HD % 4u) == 0u;

// Element e of a row, or 0 past its end (the four elements of chunk c are e = 4c..4c+3).
fn in_row(c: u32) -> vec4<bool> {
  return vec4(4u * c, 4u * c + 1u, 4u * c + 2u, 4u * c + 3u) < vec4(HD);
}

fn q_chunk(at: u32, c: u32) -> vec4f {
  if (VEC) { return q4[(at >> 2u) + c]; }
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(q[i], q[i + 1u], q[i + 2u], q[i + 3u]), in_row(c));
}

fn k_chunk(at: u32, c: u32) -> vec4f {
  if (VEC) { return k4[(at >> 2u) + c]; }
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(k[i], k[i + 1u], k[i + 2u], k[i + 3u]), in_row(c));
}

fn v_chunk(at: u32, c: u32) -> vec4f {
  if (VEC) { return v4[(at >> 2u) + c]; }
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(v[i], v[i + 1u], v[i + 2u], v[i + 3u]), in_row(c));
}

// Element d of a row held as four vectors.
fn pick(r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, d: u32) -> f32 {
  let c = d / 4u;
  return select(select(r0, r1, c == 1u), select(r2, r3, c == 3u), c >= 2u)[d % 4u];
}
