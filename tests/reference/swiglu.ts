// CPU float64 reference for SwiGLU (Llama MLP): out = silu(gate) ⊙ up, silu(g) = g·σ(g).

function sigmoid(g: number): number {
  return 1 / (1 + Math.exp(-g));
}

/** gate, up: [n] → out: [n] */
export function swigluForwardRef(gate: Float64Array, up: Float64Array): Float64Array {
  const out = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  return out;
}

/** dOut, gate, up: [n] → { dGate, dUp }: [n] each */
export function swigluBackwardRef(dOut: Float64Array, gate: Float64Array, up: Float64Array): { dGate: Float64Array; dUp: Float64Array } {
  const dGate = new Float64Array(gate.length);
  const dUp = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    dGate[i] = dOut[i] * up[i] * s * (1 + g * (1 - s));
    dUp[i] = dOut[i] * g * s;
  }
  return { dGate, dUp };
}
