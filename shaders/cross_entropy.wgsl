// Softmax cross-entropy forward over the vocabulary: one workgroup per row for wide vocabularies,
// one thread per row (cross_entropy_forward_rows, no barrier) for narrow ones.
// logits [N, V], targets i32 [N] (−1 = not counted: prompt or padding).
// loss [N] = logsumexp(logits[n]) − logits[n, target] (0 where not counted, NaN for a target
// outside [−1, V) so that a bad batch cannot pass unnoticed); lse [N] keeps the row log-sum-exp
// for the backward. Each thread keeps a running (max, sum of exp) over a strided slice of the row,
// then the pairs are merged in a tree, so V up to 152k needs one read of the row. Where the device
// has subgroups, cross_entropy_subgroups.wgsl's entry point takes the place of both.

struct Params { N: u32, V: u32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;

const NEG: f32 = -3.0e38;

var<workgroup> red_m: array<f32, 256>;
var<workgroup> red_s: array<f32, 256>;

// A NaN made at run time (a constant NaN is rejected by the WGSL compiler).
fn quiet_nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(256)
fn cross_entropy_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linear_workgroup(wid, nwg);
  if (n >= p.N) { return; }
  let row = n * p.V;
  var m = NEG;
  var s = 0.0;
  for (var i = li; i < p.V; i += 256u) {
    let x = logits[row + i];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  red_m[li] = m;
  red_s[li] = s;
  for (var half = 128u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (li < half) {
      let m1 = red_m[li];
      let m2 = red_m[li + half];
      let mm = max(m1, m2);
      red_s[li] = red_s[li] * exp(m1 - mm) + red_s[li + half] * exp(m2 - mm);
      red_m[li] = mm;
    }
  }
  if (li != 0u) { return; }
  finish_row(n, red_m[0] + log(red_s[0]));
}

// Writes lse[n] and loss[n] of row n from its log-sum-exp.
fn finish_row(n: u32, row_lse: f32) {
  let row = n * p.V;
  lse[n] = row_lse;
  let tgt = targets[n];
  if (tgt == -1) {
    loss[n] = 0.0;
  } else if (tgt < -1 || tgt >= i32(p.V)) {
    loss[n] = quiet_nan();
  } else {
    loss[n] = row_lse - logits[row + u32(tgt)];
  }
}

// One thread per row: the running (max, sum of exp) over the whole row, no workgroup memory or
// barrier. For vocabularies up to a few thousand, where a workgroup per row would spend its time
// in the tree reduction (and, on CPU implementations, in barriers).
@compute @workgroup_size(64)
fn cross_entropy_forward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linear_workgroup(wid, nwg) * 64u + li;
  if (n >= p.N) { return; }
  let row = n * p.V;
  var m = NEG;
  var s = 0.0;
  for (var i = 0u; i < p.V; i++) {
    let x = logits[row + i];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  finish_row(n, m + log(s));
}
