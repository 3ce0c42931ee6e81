// CPU float64 reference for rotary position embedding, rotate-half convention, on x [N, H, D]:
// in each head the first R channels rotate as pairs (i, i + R/2) by position·invFreq[i].

export interface RopeRefParams {
  heads: number; // H
  headDim: number; // D
  rotaryDims: number; // R
  invFreq: Float64Array; // [R/2]
  /** Round the angle position·invFreq to f32 as Hugging Face's f32 rotary embedding does. */
  f32Angles?: boolean;
}

/** Hugging Face's default inverse frequencies 1 / θ^(2i/R), exactly (float64). */
export function ropeInvFreqRef(theta: number, rotaryDims: number): Float64Array {
  return Float64Array.from({ length: rotaryDims / 2 }, (_, i) => 1 / theta ** ((2 * i) / rotaryDims));
}

/** x: [N, H, D], positions: [N] → x rotated by sign·angle (sign −1 undoes it): [N, H, D] */
function rotate(x: Float64Array, positions: Int32Array, p: RopeRefParams, sign: number): Float64Array {
  const { heads, headDim, rotaryDims } = p;
  const half = rotaryDims / 2;
  const y = Float64Array.from(x);
  for (let r = 0; r < positions.length; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const exact = positions[r] * p.invFreq[i];
        const angle = p.f32Angles ? Math.fround(exact) : exact;
        const c = Math.cos(angle);
        const s = sign * Math.sin(angle);
        const a = x[base + i];
        const b = x[base + i + half];
        y[base + i] = a * c - b * s;
        y[base + i + half] = b * c + a * s;
      }
    }
  }
  return y;
}

/** x: [N, H, D], positions: [N] → rotated x: [N, H, D] */
export function ropeForwardRef(x: Float64Array, positions: Int32Array, p: RopeRefParams): Float64Array {
  return rotate(x, positions, p, 1);
}

/** dy: [N, H, D] (gradient of the rotated x) → dx: [N, H, D]; a rotation's transpose is its inverse. */
export function ropeBackwardRef(dy: Float64Array, positions: Int32Array, p: RopeRefParams): Float64Array {
  return rotate(dy, positions, p, -1);
}
