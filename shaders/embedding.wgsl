// Embedding lookup: out[r, :] = table[ids[r], :] (token embeddings, embed_tokens / wte), and
// out[r, :] += table[ids[r], :] (learned positions, GPT-2's wpe indexed by position ids).
// The table is a frozen weight in its stored dtype (see weights.wgsl). An id outside [0, V)
// reads nothing: the lookup writes zeros and the add leaves the row as it is; callers validate
// ids on the CPU and report them.

// scale multiplies the looked-up rows (Gemma scales its embeddings by √C; 1 otherwise).
struct Params { n: u32, c: u32, v: u32, scale: f32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> ids: array<i32>;        // [N]
@group(0) @binding(2) var<storage, read> table: array<u32>;      // [V, C], WDTYPE
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // [N, C]

// The table value for element i = r·C + c of the output, or 0 when ids[r] is out of range.
fn looked_up(i: u32) -> f32 {
  let id = ids[i / p.c];
  if (id < 0 || u32(id) >= p.v) { return 0.0; }
  let k = u32(id) * p.c + i % p.c;
  return weight_value(table[weight_word(k)], k);
}

@compute @workgroup_size(256)
fn embedding_lookup(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n * p.c) { return; }
  out[i] = looked_up(i) * p.scale;
}

@compute @workgroup_size(256)
fn embedding_add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 256u + li;
  if (i >= p.n * p.c) { return; }
  out[i] = out[i] + looked_up(i);
}
