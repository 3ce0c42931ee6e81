// Second pass of a split-K matmul: c[i] (+)= Σ_s partial[s][i] (+ bias[i % N]), summing the parts
// in a fixed order so results are deterministic. partial is [S, M, N], c is [M, N].

override ACCUMULATE: bool = false;
override HAS_BIAS: bool = false;

struct Params { total: u32, n: u32, parts: u32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(256)
fn matmul_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.total) { return; }
  var s = 0.0;
  for (var q = 0u; q < p.parts; q++) { s = s + partial[q * p.total + i]; }
  if (HAS_BIAS) { s = s + bias[i % p.n]; }
  if (ACCUMULATE) { s = s + c[i]; }
  c[i] = s;
}
