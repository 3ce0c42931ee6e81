// FMA throughput microbenchmark: each thread runs 8 independent vec4 FMA chains (32 scalar FMAs
// per iteration) in registers, so latency is hidden by independent work rather than by memory.
// The multiplier and addend come from uniforms so the compiler cannot fold the loop, and every
// thread writes its sum so the work is not dead.

struct Params { iters: u32, mul: f32, add: f32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn peak(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = linear_workgroup(wid, nwg) * 256u + li;
  let m = vec4(p.mul);
  let c = vec4(p.add);
  let s = f32(li) * 1e-3;
  var a0 = vec4(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 1.0;
  var a2 = a0 + 2.0;
  var a3 = a0 + 3.0;
  var a4 = a0 + 4.0;
  var a5 = a0 + 5.0;
  var a6 = a0 + 6.0;
  var a7 = a0 + 7.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  let sum = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7);
  out[t] = sum.x + sum.y + sum.z + sum.w;
}
