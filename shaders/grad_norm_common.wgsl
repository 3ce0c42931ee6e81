// Non-finite detection by bit pattern: compilers may assume arithmetic never sees NaN or Inf, so
// `x != x` is not a reliable test. Non-finite values are also made at run time for the same reason.

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// 0 for a finite value, 1 for NaN, 2 for ±Inf: flags OR together across a reduction.
fn nonfinite_kind(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) != 0x7f800000u) { return 0u; }
  return select(2u, 1u, (bits & 0x007fffffu) != 0u);
}

// A sum with its flags: NaN wins over Inf, as in IEEE arithmetic.
fn flagged(sum: f32, kinds: u32) -> f32 {
  var nan_bits = 0x7fc00000u;
  var inf_bits = 0x7f800000u;
  if ((kinds & 1u) != 0u) { return bitcast<f32>(nan_bits); }
  if ((kinds & 2u) != 0u) { return bitcast<f32>(inf_bits); }
  return sum;
}
