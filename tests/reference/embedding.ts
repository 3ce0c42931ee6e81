// CPU float64 reference for embedding lookups. Out-of-range ids read nothing (a zero row for the
// lookup, no change for the add), as the kernel does.

/** ids: [N], table: [V, C] → out: [N, C] */
export function embeddingLookupRef(ids: Int32Array, table: Float64Array, v: number, c: number): Float64Array {
  const out = new Float64Array(ids.length * c);
  return embeddingAddRef(ids, table, v, c, out);
}

/** positions: [N], wpe: [P, C], out: [N, C] (updated in place and returned) */
export function embeddingAddRef(ids: Int32Array, table: Float64Array, v: number, c: number, out: Float64Array): Float64Array {
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r];
    if (id < 0 || id >= v) continue;
    for (let j = 0; j < c; j++) out[r * c + j] += table[id * c + j];
  }
  return out;
}
