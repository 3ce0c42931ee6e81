// Inverted-dropout mask from a counter-based hash of (seed, element index): nothing is stored,
// the backward pass recomputes the same mask. The TS twin is `dropoutKeep` in src/kernels/lora.ts;
// both must stay bit-identical.

// A 32-bit integer finaliser with low bias ("lowbias32").
fn dropout_hash(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

// An element is kept when the top 24 bits of its hash reach threshold = round(p · 2^24).
fn dropout_keep(seed: u32, index: u32, threshold: u32) -> bool {
  return (dropout_hash(index ^ dropout_hash(seed)) >> 8u) >= threshold;
}
