/**
 * Choosing the next token from logits [V]: greedy (argmax, ties to the lowest id as torch.argmax)
 * at temperature 0; otherwise softmax(logits / temperature) restricted to the top-k ids and then
 * to the smallest set of most likely ids whose probability reaches top-p (at least one id kept, as
 * Hugging Face's TopPLogitsWarper), sampled with a seeded PRNG (src/data/rng.ts).
 */
import type { Rng } from '../data/rng.ts';

export interface SamplingOptions {
  temperature: number;
  /** Keep the k most likely ids (0 or undefined: all). */
  topK?: number;
  /** Keep the most likely ids up to this cumulative probability (1 or undefined: all). */
  topP?: number;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

export function checkSampling(o: SamplingOptions): void {
  if (!(Number.isFinite(o.temperature) && o.temperature >= 0)) throw new Error(`temperature ${o.temperature} must be a number ≥ 0 (0 is greedy).`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new Error(`top-k ${o.topK} must be a whole number ≥ 0 (0 keeps every token).`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`top-p ${o.topP} must be in (0, 1].`);
}

/** The probabilities the sampler draws from (ids outside top-k/top-p get 0); for tests and displays. */
export function samplingDistribution(logits: ArrayLike<number>, o: SamplingOptions): Float64Array {
  const V = logits.length;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, V) : V;
  const kept = order.slice(0, k);
  const max = logits[kept[0]];
  const p = new Float64Array(V);
  let z = 0;
  for (const i of kept) {
    p[i] = Math.exp((logits[i] - max) / o.temperature);
    z += p[i];
  }
  for (const i of kept) p[i] /= z;
  const topP = o.topP ?? 1;
  if (topP < 1) {
    let cum = 0;
    let cut = kept.length;
    for (let r = 0; r < kept.length; r++) {
      cum += p[kept[r]];
      if (cum >= topP) {
        cut = r + 1;
        break;
      }
    }
    let z2 = 0;
    kept.forEach((i, r) => (r < cut ? (z2 += p[i]) : (p[i] = 0)));
    for (let r = 0; r < cut; r++) p[kept[r]] /= z2;
  }
  return p;
}

export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: Rng): number {
  if (o.temperature === 0) return argmax(logits);
  const p = samplingDistribution(logits, o);
  const u = rng();
  let cum = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    cum += p[i];
    last = i;
    if (u < cum) return i;
  }
  return last;
}
