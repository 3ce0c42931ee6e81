// Shared helpers, concatenated before a kernel's own source.

// The flat index of a workgroup in a dispatch whose x count may have been folded into y
// (counts above 65,535). Kernels compare it with their own total and return past it.
fn linear_workgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}
