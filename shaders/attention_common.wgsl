// Shared by the attention kernels: dims, layouts and the masking rule.
// q, out, dOut, dQ [B, T, H, D]; k, v, dK, dV [B, S, KV, D]; key_mask u32 [B, S];
// stats [2, B, H, T]: row log-sum-exp of the scaled scores (forward), then Σ dOut·out (backward).
// Query t sits at position past + t and sees key s when s ≤ past + t, key_mask[b, s] != 0 and,
// with a sliding window W > 0 (Mistral, Gemma 3's local layers), past + t − s < W.

struct Params { B: u32, T: u32, S: u32, H: u32, KV: u32, D: u32, past: u32, scale: f32, window: u32, }
@group(0) @binding(0) var<uniform> p: Params;

// Every attention entry point reads these four; its own buffers follow from binding 5.
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> key_mask: array<u32>;

// Row stride of the workgroup tiles: the head dimension rounded up to a power of two (≤ 128), set
// per pipeline so that small heads do not pay for 128-wide tiles.
override MAX_D: u32 = 128u;
// Score of a key a query cannot see; below every real score, and exp(NEG − NEG) is a harmless 1.
const NEG: f32 = -3.0e38;

fn q_row(b: u32, t: u32, h: u32) -> u32 { return ((b * p.T + t) * p.H + h) * p.D; }
fn kv_row(b: u32, s: u32, g: u32) -> u32 { return ((b * p.S + s) * p.KV + g) * p.D; }
fn stat_index(b: u32, h: u32, t: u32) -> u32 { return (b * p.H + h) * p.T + t; }
fn delta_offset() -> u32 { return p.B * p.H * p.T; }

// The first key query row t can see: 0, or with a window the oldest of its last W positions.
fn first_key(t: u32) -> u32 {
  if (p.window == 0u || p.past + t + 1u <= p.window) { return 0u; }
  return p.past + t + 1u - p.window;
}

// One past the last query row that can see key s: T, or fewer when the window has moved past s.
fn query_end(s: u32) -> u32 {
  if (p.window == 0u) { return p.T; }
  if (s + p.window <= p.past) { return 0u; }
  return min(p.T, s + p.window - p.past);
}

// The masking rule: query t (at position past + t) of sequence b sees key s.
fn key_visible(b: u32, t: u32, s: u32) -> bool {
  return s <= p.past + t && s >= first_key(t) && key_mask[b * p.S + s] != 0u;
}
