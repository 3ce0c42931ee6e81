// Rotary position embedding, Hugging Face's rotate-half convention, in place on q or k laid out
// [N, H, D] (rows N = B·T, heads contiguous). In each head the first R = rotaryDims channels rotate
// as pairs (i, i + R/2) by the angle position·inv_freq[i]; channels R..D pass through:
//   x[i]       ← x[i]·cos − x[i + R/2]·sin
//   x[i + R/2] ← x[i + R/2]·cos + x[i]·sin
// The backward is the same rotation by −angle (sign = −1), applied to the gradient in place.
// inv_freq comes in the uniforms, computed on the CPU as Hugging Face does (or with rope_scaling),
// and the angle is the f32 product position·inv_freq, as in Hugging Face's f32 rotary embedding.

const MAX_FREQS: u32 = 256u; // rotaryDims ≤ 512

struct Params {
  n: u32,         // rows N
  heads: u32,     // H
  head_dim: u32,  // D
  half: u32,      // R / 2
  sign: f32,      // +1 forward, −1 backward
  inv_freq: array<vec4f, MAX_FREQS / 4u>,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> positions: array<i32>; // [N]
@group(0) @binding(2) var<storage, read_write> x: array<f32>;   // [N, H, D]

// π/4 in four parts with few significant bits (8, 7, 6, then the f32 rest), so y·PIO4_A..C are
// exact for y < 2^16 and the reduction keeps ~1e-7 absolute accuracy for |a| up to ~5·10^4.
const PIO4_A: f32 = 0.78515625;
const PIO4_B: f32 = 0.0002422332763671875;
const PIO4_C: f32 = -3.203749656677246e-07;
const PIO4_D: f32 = 4.960468147352515e-10;

// (sin a, cos a) to ~1e-7 absolute. WGSL only promises 2^-11 for sin/cos on [−π, π] and nothing
// beyond, so this reduces to [−π/4, π/4] (Cody–Waite) and uses Cephes' sinf/cosf polynomials.
fn sin_cos(a: f32) -> vec2f {
  let ax = abs(a);
  var j = u32(ax * 1.2732395447351628); // 4/π
  j += j & 1u;                          // even octant: r = ax − j·π/4 lies in [−π/4, π/4]
  let y = f32(j);
  let r = (((ax - y * PIO4_A) - y * PIO4_B) - y * PIO4_C) - y * PIO4_D;
  let z = r * r;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  var sc: vec2f;
  switch ((j >> 1u) & 3u) { // quadrant: a = r + q·π/2
    case 0u: { sc = vec2f(s, c); }
    case 1u: { sc = vec2f(c, -s); }
    case 2u: { sc = vec2f(-s, -c); }
    default: { sc = vec2f(-c, s); }
  }
  return vec2f(select(sc.x, -sc.x, a < 0.0), sc.y);
}

// One thread per rotating pair: N·H·(R/2) threads.
@compute @workgroup_size(256)
fn rope(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = linear_workgroup(wid, nwg) * 256u + li;
  let per_row = p.heads * p.half;
  if (t >= p.n * per_row) { return; }
  let row = t / per_row;
  let i = t % p.half;
  let base = (t / p.half) * p.head_dim; // (row·H + h)·D
  let angle = f32(positions[row]) * p.inv_freq[i / 4u][i % 4u];
  let sc = sin_cos(angle);
  let sn = p.sign * sc.x;
  let a = x[base + i];
  let b = x[base + i + p.half];
  x[base + i] = a * sc.y - b * sn;
  x[base + i + p.half] = b * sc.y + a * sn;
}
