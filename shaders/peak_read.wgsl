// Memory read bandwidth microbenchmark: the threads of the grid stride through a buffer 16 bytes
// at a time (adjacent threads read adjacent words, four independent loads in flight each), fold
// what they read into a sum and write it, so no load is dead. Every byte is read once.

struct Params { vec4s: u32, threads: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn peak_read(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = linear_workgroup(wid, nwg) * 256u + li;
  let stride = p.threads;
  var a0 = vec4u(0u);
  var a1 = vec4u(0u);
  var a2 = vec4u(0u);
  var a3 = vec4u(0u);
  var i = t;
  for (; i + 3u * stride < p.vec4s; i += 4u * stride) {
    a0 += src[i];
    a1 += src[i + stride];
    a2 += src[i + 2u * stride];
    a3 += src[i + 3u * stride];
  }
  for (; i < p.vec4s; i += stride) { a0 += src[i]; }
  let s = (a0 + a1) + (a2 + a3);
  out[t] = s.x + s.y + s.z + s.w;
}
