/**
 * CPU float64 reference for causal self-attention with grouped-query heads and a key padding mask.
 *
 * q [B, T, H, D]; k, v [B, S, KV, D]; keyMask [B, S] (1 = real token). Query t sits at position
 * past + t and sees keys s ≤ past + t whose mask is 1. Head h reads kv head h / (H / KV).
 * A query with no visible key outputs zeros. With a sliding window W, query t also needs
 * past + t − s < W; scores are scaled by `scale` (default 1/√D).
 */
export interface AttentionRefDims {
  B: number;
  T: number;
  S: number;
  H: number;
  KV: number;
  D: number;
  past: number;
  window?: number;
  scale?: number;
}

const qi = (d: AttentionRefDims, b: number, t: number, h: number) => ((b * d.T + t) * d.H + h) * d.D;
const ki = (d: AttentionRefDims, b: number, s: number, g: number) => ((b * d.S + s) * d.KV + g) * d.D;

function visible(d: AttentionRefDims, mask: ArrayLike<number>, b: number, t: number, s: number): boolean {
  return s <= d.past + t && mask[b * d.S + s] !== 0 && (!d.window || d.past + t - s < d.window);
}

/** Softmax probabilities of one query row over keys 0..S−1 (zeros where not visible, all zeros when none is). */
function rowProbs(d: AttentionRefDims, q: ArrayLike<number>, k: ArrayLike<number>, mask: ArrayLike<number>, b: number, t: number, h: number): Float64Array {
  const g = Math.floor(h / (d.H / d.KV));
  const scale = d.scale ?? 1 / Math.sqrt(d.D);
  const scores = new Float64Array(d.S).fill(-Infinity);
  let max = -Infinity;
  for (let s = 0; s < d.S; s++) {
    if (!visible(d, mask, b, t, s)) continue;
    let dot = 0;
    for (let x = 0; x < d.D; x++) dot += q[qi(d, b, t, h) + x] * k[ki(d, b, s, g) + x];
    scores[s] = dot * scale;
    max = Math.max(max, scores[s]);
  }
  const p = new Float64Array(d.S);
  if (max === -Infinity) return p;
  let sum = 0;
  for (let s = 0; s < d.S; s++) if (scores[s] > -Infinity) sum += p[s] = Math.exp(scores[s] - max);
  for (let s = 0; s < d.S; s++) p[s] /= sum;
  return p;
}

/** out [B, T, H, D]. */
export function attentionForwardRef(d: AttentionRefDims, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const out = new Float64Array(d.B * d.T * d.H * d.D);
  for (let b = 0; b < d.B; b++) {
    for (let t = 0; t < d.T; t++) {
      for (let h = 0; h < d.H; h++) {
        const g = Math.floor(h / (d.H / d.KV));
        const p = rowProbs(d, q, k, mask, b, t, h);
        for (let s = 0; s < d.S; s++) {
          if (p[s] === 0) continue;
          for (let x = 0; x < d.D; x++) out[qi(d, b, t, h) + x] += p[s] * v[ki(d, b, s, g) + x];
        }
      }
    }
  }
  return out;
}

/** dQ [B, T, H, D], dK and dV [B, S, KV, D] (summed over the query heads sharing a kv head), from dOut [B, T, H, D]. */
export function attentionBackwardRef(
  d: AttentionRefDims,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  mask: ArrayLike<number>,
  dOut: ArrayLike<number>,
): { dQ: Float64Array; dK: Float64Array; dV: Float64Array } {
  const scale = d.scale ?? 1 / Math.sqrt(d.D);
  const dQ = new Float64Array(q.length);
  const dK = new Float64Array(k.length);
  const dV = new Float64Array(v.length);
  for (let b = 0; b < d.B; b++) {
    for (let t = 0; t < d.T; t++) {
      for (let h = 0; h < d.H; h++) {
        const g = Math.floor(h / (d.H / d.KV));
        const p = rowProbs(d, q, k, mask, b, t, h);
        // dP[s] = dOut · v[s]; dScore[s] = P[s] (dP[s] − Σ P dP)
        const dp = new Float64Array(d.S);
        let pdp = 0;
        for (let s = 0; s < d.S; s++) {
          if (p[s] === 0) continue;
          for (let x = 0; x < d.D; x++) dp[s] += dOut[qi(d, b, t, h) + x] * v[ki(d, b, s, g) + x];
          pdp += p[s] * dp[s];
        }
        for (let s = 0; s < d.S; s++) {
          if (p[s] === 0) continue;
          const ds = p[s] * (dp[s] - pdp) * scale;
          for (let x = 0; x < d.D; x++) {
            dQ[qi(d, b, t, h) + x] += ds * k[ki(d, b, s, g) + x];
            dK[ki(d, b, s, g) + x] += ds * q[qi(d, b, t, h) + x];
            dV[ki(d, b, s, g) + x] += p[s] * dOut[qi(d, b, t, h) + x];
          }
        }
      }
    }
  }
  return { dQ, dK, dV };
}
