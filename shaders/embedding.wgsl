// Embedding lookup: out[r, :] = table[ids[r], :] (token embeddings, embed_tokens / wte), and
// out[r, :] += table[ids[r], :] (learned positions, GPT-2's wpe indexed by position ids).
// The table is a frozen weight in its stored dtype (weights.wgsl, weights_quant.wgsl); a
// quantized table is read VEC = 4 elements per thread (C is whole blocks). An id outside [0, V)
// reads nothing: the lookup writes zeros and the add leaves the row as it is; callers validate
// ids on the CPU and report them.

// A table split into row windows (a weight over the binding limit) is looked up once per window:
// id0 is the window's first row and v its row count; with skip_outside = 1 (every window but the
// first) rows whose id lies outside the window are left as they are.
struct Params { n: u32, c: u32, v: u32, id0: u32, skip_outside: u32, }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> ids: array<i32>;        // [N]
@group(0) @binding(2) var<storage, read> table: array<u32>;      // [V, C], WDTYPE
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // [N, C]

override VEC: u32 = 1u;

fn weight_load(w: u32) -> u32 { return table[w]; }

// The table values for elements i.. i+VEC-1 of the output (i = r·C + c, VEC | C), or 0 when
// ids[r] is out of range.
fn in_window(i: u32) -> bool {
  let id = ids[i / p.c];
  return id >= 0 && u32(id) >= p.id0 && u32(id) - p.id0 < p.v;
}

fn looked_up(i: u32) -> vec4f {
  if (!in_window(i)) { return vec4(0.0); }
  let k = (u32(ids[i / p.c]) - p.id0) * p.c + i % p.c;
  if (VEC == 4u) { return weight4(k); }
  return vec4(weight_at(k), 0.0, 0.0, 0.0);
}

fn store(i: u32, v: vec4f, add: bool) {
  for (var q = 0u; q < VEC; q++) {
    if (add) { out[i + q] = out[i + q] + v[q]; } else { out[i + q] = v[q]; }
  }
}

@compute @workgroup_size(256)
fn embedding_lookup(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (linear_workgroup(wid, nwg) * 256u + li) * VEC;
  if (i >= p.n * p.c || (p.skip_outside == 1u && !in_window(i))) { return; }
  store(i, looked_up(i), false);
}

@compute @workgroup_size(256)
fn embedding_add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (linear_workgroup(wid, nwg) * 256u + li) * VEC;
  if (i >= p.n * p.c) { return; }
  store(i, looked_up(i), true);
}
