// Row loads of the attention rows kernels when HD is a multiple of 4 (see
// attention_rows_common.wgsl): q, k, v and dOut bound again as vec4 arrays at their own binding
// numbers (attention_common.wgsl's scalar q, k, v are then not used), one load per vector.
// Rows start at multiples of HD, so every vector is aligned.

@group(0) @binding(1) var<storage, read> q4: array<vec4f>;
@group(0) @binding(2) var<storage, read> k4: array<vec4f>;
@group(0) @binding(3) var<storage, read> v4: array<vec4f>;
@group(0) @binding(6) var<storage, read> dout4: array<vec4f>;

fn q_chunk(at: u32, c: u32) -> vec4f { return q4[(at >> 2u) + c]; }
fn k_chunk(at: u32, c: u32) -> vec4f { return k4[(at >> 2u) + c]; }
fn v_chunk(at: u32, c: u32) -> vec4f { return v4[(at >> 2u) + c]; }
fn dout_chunk(at: u32, c: u32) -> vec4f { return dout4[(at >> 2u) + c]; }
