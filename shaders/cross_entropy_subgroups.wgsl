// Softmax cross-entropy forward on subgroups (concatenated after rows_subgroups.wgsl and
// cross_entropy.wgsl, whose bindings and finish_row it shares): the rows of logits [N, V] are laid
// out as rows_subgroups.wgsl describes (a row per subgroup, or per workgroup for wide
// vocabularies). Each thread keeps a running (max, sum of exp) over its strided slice; the row's
// max is one row_max, and the sum of exp rescaled to it one row_sum. The default where the device
// has subgroups: on SwiftShader it beat cross_entropy.wgsl at every vocabulary measured (1.2–1.7×
// at V ≤ 2048 against its thread per row, 15× at V = 4096, 3.4× at V = 32000).

@compute @workgroup_size(WG)
fn cross_entropy_forward_subgroups(inv: RowInvocation) {
  for (var pass_ = 0u; pass_ < ROW_PASSES; pass_++) {
    let t = row_lane(inv, pass_, p.N, p.V);
    let row = t.row * p.V;
    var m = NEG;
    var s = 0.0;
    for (var i = t.lane; i < t.count; i += t.stride) {
      let x = logits[row + i];
      if (x > m) {
        s = s * exp(m - x) + 1.0;
        m = x;
      } else {
        s += exp(x - m);
      }
    }
    let row_m = row_max(inv, m);
    let row_s = row_sum(inv, s * exp(m - row_m));
    if (t.lane == 0u && t.count > 0u) { finish_row(t.row, row_m + log(row_s)); }
  }
}
