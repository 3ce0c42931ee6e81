/**
 * RoPE inverse frequencies as Hugging Face computes them (`modeling_rope_utils.py`):
 *   default: inv_freq[i] = 1 / theta^(2i / rotaryDims), i = 0 … rotaryDims/2 − 1
 *   llama3 (`_compute_llama3_parameters`), with wavelen = 2π / inv_freq:
 *     wavelen < originalMax / highFreqFactor  → unchanged (high frequencies)
 *     wavelen > originalMax / lowFreqFactor   → inv_freq / factor (low frequencies)
 *     otherwise, with smooth = (originalMax / wavelen − lowFreqFactor) / (highFreqFactor − lowFreqFactor):
 *       (1 − smooth) · inv_freq / factor + smooth · inv_freq
 * Computed in float64 (transformers uses float32; the two agree to ~1e-7 relative).
 * With rotate-half RoPE, dims j and j + rotaryDims/2 of a head rotate together by angle pos · inv_freq[j].
 */
import type { ModelConfig } from './config.ts';

export function ropeInvFreq(config: Pick<ModelConfig, 'rope'>): Float64Array {
  const rope = config.rope;
  if (!rope) throw new Error('ropeInvFreq: this model has no rotary embeddings (it uses learned positions)');
  const half = rope.rotaryDims / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = 1 / rope.theta ** ((2 * i) / rope.rotaryDims);
  const s = rope.scaling;
  if (!s) return out;
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = out[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      out[i] = f / s.factor;
      continue;
    }
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    out[i] = (1 - smooth) * (f / s.factor) + smooth * f;
  }
  return out;
}
