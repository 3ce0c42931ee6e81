// Row loads of the attention rows kernels for any HD (see attention_rows_common.wgsl): four
// scalar loads per vector, zeros past the row's end. dOut is binding 6 of the backward kernels.

@group(0) @binding(6) var<storage, read> dout: array<f32>;

fn q_chunk(at: u32, c: u32) -> vec4f {
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(q[i], q[i + 1u], q[i + 2u], q[i + 3u]), in_row(c));
}

fn k_chunk(at: u32, c: u32) -> vec4f {
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(k[i], k[i + 1u], k[i + 2u], k[i + 3u]), in_row(c));
}

fn v_chunk(at: u32, c: u32) -> vec4f {
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(v[i], v[i + 1u], v[i + 2u], v[i + 3u]), in_row(c));
}

fn dout_chunk(at: u32, c: u32) -> vec4f {
  let i = at + 4u * c;
  return select(vec4(0.0), vec4(dout[i], dout[i + 1u], dout[i + 2u], dout[i + 3u]), in_row(c));
}
