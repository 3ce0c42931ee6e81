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

/** GeGLU (Gemma MLP): out = gelu_tanh(gate) ⊙ up, with PyTorch's gelu(approximate='tanh'). */
export function gegluForwardRef(gate: Float64Array, up: Float64Array): Float64Array {
  return gate.map((g, i) => 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3))) * up[i]);
}

/** dOut, gate, up: [n] → { dGate, dUp } of GeGLU, from the closed form. */
export function gegluBackwardRef(dOut: Float64Array, gate: Float64Array, up: Float64Array): { dGate: Float64Array; dUp: Float64Array } {
  const k = Math.sqrt(2 / Math.PI);
  const dGate = new Float64Array(gate.length);
  const dUp = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    const th = Math.tanh(k * (g + 0.044715 * g ** 3));
    dGate[i] = dOut[i] * up[i] * (0.5 * (1 + th) + 0.5 * g * (1 - th * th) * k * (1 + 3 * 0.044715 * g * g));
    dUp[i] = dOut[i] * 0.5 * g * (1 + th);
  }
  return { dGate, dUp };
}
