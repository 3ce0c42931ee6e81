// The trainer's step guard, between the gradient norm and the optimizer update. A step whose loss
// (when `check_loss` is 1) or gradient norm is NaN/Inf sets `halted`; while `halted` is set (the
// trainer clears it when it rolls back) every step gets a NaN clip coefficient, which makes the
// optimizer leave params and moments untouched. The steps queued behind a broken one therefore
// change nothing either: the state on the GPU stays the one before the broken step, and a rollback
// needs no copy of it.

struct Params { check_loss: u32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read> norm: array<f32>;
@group(0) @binding(3) var<storage, read_write> clip: array<f32>;
@group(0) @binding(4) var<storage, read_write> halted: array<u32>;

@compute @workgroup_size(1)
fn step_guard() {
  let bad_loss = p.check_loss != 0u && !is_finite(loss[0]);
  if (halted[0] != 0u || bad_loss || !is_finite(norm[0])) {
    halted[0] = 1u;
    clip[0] = flagged(0.0, 1u); // NaN
  }
}
