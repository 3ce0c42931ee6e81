// flag [1] = 1 when the gradient norm is NaN or Inf (some gradient was not finite) or larger than
// `limit` (a spike the trainer wants to hear about), else 0.

struct Params { limit: f32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> norm: array<f32>;
@group(0) @binding(2) var<storage, read_write> flag: array<u32>;

@compute @workgroup_size(1)
fn grad_norm_flag() {
  let x = norm[0];
  flag[0] = select(0u, 1u, !is_finite(x) || x > p.limit);
}
