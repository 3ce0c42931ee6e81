import type { Recorder } from '../gpu/recorder.ts';
import { describe, expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { arrayOf, uniformBlock } from '../gpu/uniform-block.ts';

const WG = 256;
const SHADERS = ['common', 'rope'] as const;
/** Frequencies the uniform block holds (MAX_FREQS in rope.wgsl): rotaryDims ≤ 512. */
const MAX_FREQS = 256;

/** shaders/rope.wgsl's uniforms; inv_freq holds R/2 frequencies, the rest of its MAX_FREQS stay zero. */
export const ROPE_PARAMS = uniformBlock('rope', 'Params', {
  n: 'u32', heads: 'u32', head_dim: 'u32', half: 'u32', sign: 'f32', inv_freq: arrayOf('vec4f', MAX_FREQS / 4),
});

export interface RopeOptions {
  /** H: heads in x (the key/value head count KV when x is k). */
  heads: number;
  /** D: channels per head. */
  headDim: number;
  /** R ≤ D, even: channels rotated at the start of each head (partial rotary); the rest pass through. Default D. */
  rotaryDims?: number;
  /** rope_theta; inverse frequencies 1/θ^(2i/R) are computed from it as Hugging Face does. */
  theta?: number;
  /** Precomputed inverse frequencies [R/2] (e.g. Llama 3 rope_scaling, computed on the CPU); replaces theta. */
  invFreq?: Float32Array;
}

/**
 * Hugging Face's default inverse frequencies in f32: 1 / θ^(2i/R) for i < R/2, with each step
 * rounded to f32 as torch computes `1.0 / (base ** (arange(0, R, 2).float() / R))`.
 */
export function ropeInvFreq(theta: number, rotaryDims: number): Float32Array {
  const out = new Float32Array(rotaryDims / 2);
  const base = Math.fround(theta);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.fround(1 / Math.fround(base ** Math.fround((2 * i) / rotaryDims)));
  }
  return out;
}

/**
 * Rotates q or k in place by position·inv_freq (rotate-half pairs (i, i + R/2)). x: f32 [N, H, D]
 * (or [N, H·D], or with N written as B, T); positions: i32 [N] (or [B, T]), so padding, past
 * lengths and packed sequences work. The angle is the f32 product, as Hugging Face computes it.
 */
export function ropeForward(rec: Recorder, x: Tensor, positions: Tensor, options: RopeOptions): void {
  record(rec, 'rope', x, positions, options, 1);
}

/** The gradient through ropeForward, in place on dx (same shapes): the rotation by −angle. */
export function ropeBackward(rec: Recorder, dx: Tensor, positions: Tensor, options: RopeOptions): void {
  record(rec, 'rope backward', dx, positions, options, -1);
}

function record(rec: Recorder, op: string, x: Tensor, positions: Tensor, options: RopeOptions, sign: number): void {
  const { heads, headDim } = options;
  const rotaryDims = options.rotaryDims ?? headDim;
  const invFreq = checkOptions(op, options, rotaryDims);
  expectShape(op, 'positions', positions, positions.shape, ['i32']);
  const n = numel(positions.shape);
  const perHead = [...positions.shape, heads, headDim];
  const flat = [...positions.shape, heads * headDim];
  const ok = x.dtype === 'f32' && [perHead, flat].some((s) => s.length === x.shape.length && s.every((d, k) => d === x.shape[k]));
  if (!ok) throw new Error(`${op}: x is ${describe(x)} but f32 [${perHead.join(', ')}] or [${flat.join(', ')}] is needed (positions are [${positions.shape.join(', ')}]).`);
  rec.dispatch({
    label: `${op} ${x.label}`,
    pipeline: { shaders: SHADERS, entry: 'rope' },
    uniforms: ROPE_PARAMS.pack({ n, heads, head_dim: headDim, half: rotaryDims / 2, sign, inv_freq: invFreq }),
    bindings: [positions, x],
    workgroups: [Math.ceil((n * heads * (rotaryDims / 2)) / WG)],
  });
}

/** The inverse frequencies to use, after checking the head layout and rotary settings. */
function checkOptions(op: string, o: RopeOptions, rotaryDims: number): Float32Array {
  const where = `${op} (heads ${o.heads}, headDim ${o.headDim}, rotaryDims ${rotaryDims})`;
  if (!(Number.isInteger(o.heads) && o.heads > 0 && Number.isInteger(o.headDim) && o.headDim > 0)) {
    throw new Error(`${where}: heads and headDim must be positive integers.`);
  }
  if (!(Number.isInteger(rotaryDims) && rotaryDims >= 2 && rotaryDims % 2 === 0 && rotaryDims <= o.headDim)) {
    throw new Error(`${where}: rotaryDims must be even, at least 2 and at most headDim; check partial_rotary_factor.`);
  }
  if (rotaryDims / 2 > MAX_FREQS) throw new Error(`${where}: at most ${2 * MAX_FREQS} rotary dims are supported.`);
  if (o.invFreq) {
    if (o.invFreq.length !== rotaryDims / 2) {
      throw new Error(`${where}: invFreq has ${o.invFreq.length} values but rotaryDims / 2 = ${rotaryDims / 2} are needed.`);
    }
    return o.invFreq;
  }
  if (!(o.theta !== undefined && Number.isFinite(o.theta) && o.theta > 0)) {
    throw new Error(`${where}: theta is ${o.theta}; give rope_theta (> 0) or precomputed invFreq.`);
  }
  return ropeInvFreq(o.theta, rotaryDims);
}
