// total [1] = Σ loss [N], in one workgroup, so a training step reads back a single number.

struct Params { N: u32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn cross_entropy_sum(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < p.N; i += 256u) { s += loss[i]; }
  red[li] = s;
  for (var half = 128u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (li < half) { red[li] += red[li + half]; }
  }
  if (li == 0u) { total[0] = red[0]; }
}
