import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';

const WG = 256;
const SHADERS = ['common', 'swiglu'] as const;

/** shaders/swiglu.wgsl's uniforms: elements of the output. */
export const SWIGLU_PARAMS = uniformBlock('swiglu', 'Params', { n: 'u32' });

/** The gate's activation: silu (SwiGLU, Llama/Qwen) or the tanh GELU (GeGLU, Gemma). */
export type GateActivation = 'silu' | 'gelu_tanh';

/** out = act(gate) ⊙ up; gate, up (gate_proj and up_proj outputs), out: [N, I] (any shape, all the same). */
export function swigluForward(rec: Recorder, gate: Tensor, up: Tensor, out: Tensor, activation: GateActivation = 'silu'): void {
  expectShape('swiglu', 'gate', gate, gate.shape, ['f32']);
  expectShape('swiglu', 'up', up, gate.shape, ['f32']);
  expectShape('swiglu', 'out', out, gate.shape, ['f32']);
  const n = numel(gate.shape);
  rec.dispatch({
    label: `${activation === 'silu' ? 'swiglu' : 'geglu'} ${out.label}`,
    pipeline: { shaders: SHADERS, entry: 'swiglu_forward', constants: { GELU: activation === 'silu' ? 0 : 1 } },
    uniforms: SWIGLU_PARAMS.pack({ n }),
    bindings: [gate, up, out],
    workgroups: [Math.ceil(n / WG)],
  });
}

/**
 * dGate = dOut · up · act'(gate) and dUp = dOut · act(gate), both written with =.
 * dOut, gate, up (the forward's inputs), dGate, dUp: [N, I].
 */
export function swigluBackward(rec: Recorder, dOut: Tensor, gate: Tensor, up: Tensor, dGate: Tensor, dUp: Tensor, activation: GateActivation = 'silu'): void {
  const op = 'swiglu backward';
  expectShape(op, 'dOut', dOut, dOut.shape, ['f32']);
  expectShape(op, 'gate', gate, dOut.shape, ['f32']);
  expectShape(op, 'up', up, dOut.shape, ['f32']);
  expectShape(op, 'dGate', dGate, dOut.shape, ['f32']);
  expectShape(op, 'dUp', dUp, dOut.shape, ['f32']);
  const n = numel(dOut.shape);
  rec.dispatch({
    label: `${activation === 'silu' ? 'swiglu' : 'geglu'} backward ${dGate.label}`,
    pipeline: { shaders: SHADERS, entry: 'swiglu_backward', constants: { GELU: activation === 'silu' ? 0 : 1 } },
    uniforms: SWIGLU_PARAMS.pack({ n }),
    bindings: [dOut, gate, up, dGate, dUp],
    workgroups: [Math.ceil(n / WG)],
  });
}

/**
 * swigluBackward with its outputs over its inputs: gate becomes dGate and up becomes dUp (the
 * same values as swigluBackward writes, bit for bit). dOut, gate, up: [N, I].
 */
export function swigluBackwardInPlace(rec: Recorder, dOut: Tensor, gate: Tensor, up: Tensor, activation: GateActivation = 'silu'): void {
  const op = 'swiglu backward in place';
  expectShape(op, 'dOut', dOut, dOut.shape, ['f32']);
  expectShape(op, 'gate', gate, dOut.shape, ['f32']);
  expectShape(op, 'up', up, dOut.shape, ['f32']);
  if (gate.buffer === up.buffer || gate.buffer === dOut.buffer || up.buffer === dOut.buffer) {
    throw new Error(`${op}: dOut, gate and up must be three different buffers (${dOut.label}, ${gate.label}, ${up.label}).`);
  }
  const n = numel(dOut.shape);
  rec.dispatch({
    label: `${activation === 'silu' ? 'swiglu' : 'geglu'} backward in place ${gate.label}`,
    pipeline: { shaders: SHADERS, entry: 'swiglu_backward_inplace', constants: { GELU: activation === 'silu' ? 0 : 1 } },
    uniforms: SWIGLU_PARAMS.pack({ n }),
    bindings: [dOut, gate, up],
    workgroups: [Math.ceil(n / WG)],
  });
}
