/**
 * A step's integer inputs (ids, positions, key mask, targets) go through a small staging buffer:
 * written through the queue when the step is recorded and copied into the planned buffers inside
 * the recorded commands, so several steps recorded before one submit each see their own inputs.
 * Staging buffers are copy-only (never storage), so the pool never hands one out as an activation.
 */
import type { Gpu } from '../gpu/device.ts';
import type { Recorder } from '../gpu/recorder.ts';
import type { Tensor } from '../gpu/tensor.ts';

const COPY_ONLY = 0x4 | 0x8; // COPY_SRC | COPY_DST

export interface StepInputs {
  B: number;
  T: number;
  /** [B, T] each. */
  ids: Int32Array;
  positions: Int32Array;
  keyMask: Uint32Array;
  targets: Int32Array;
}

/**
 * Positions from the attention mask: a real token's position is the number of real tokens before
 * it in its row (right padding: 0 … T−1; left padding also works); a padding slot keeps its index.
 */
export function positionsFromMask(mask: Uint8Array | Uint32Array, B: number, T: number, past = 0): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let seen = 0;
    for (let t = 0; t < T; t++) {
      out[b * T + t] = past + (mask[b * T + t] ? seen++ : t);
    }
  }
  return out;
}

/** Writes the inputs into a fresh staging buffer and records its copy into the four tensors. */
export function stageInputs(gpu: Gpu, rec: Recorder, inp: StepInputs, dst: { ids: Tensor; positions: Tensor; keyMask: Tensor; targets: Tensor }): GPUBuffer {
  const N = inp.B * inp.T;
  for (const [name, a] of [['ids', inp.ids], ['positions', inp.positions], ['keyMask', inp.keyMask], ['targets', inp.targets]] as const) {
    if (a.length !== N) throw new Error(`network inputs: ${name} has ${a.length} values but B·T = ${inp.B}·${inp.T} = ${N} are needed.`);
  }
  const staging = gpu.pool.alloc('activations.inputs', 16 * N, COPY_ONLY);
  const all = new Uint8Array(16 * N);
  [inp.ids, inp.positions, inp.keyMask, inp.targets].forEach((a, i) => all.set(new Uint8Array(a.buffer, a.byteOffset, 4 * N), 4 * N * i));
  gpu.device.queue.writeBuffer(staging, 0, all);
  [dst.ids, dst.positions, dst.keyMask, dst.targets].forEach((t, i) => rec.copy(staging, t, 4 * N, 4 * N * i, 0));
  return staging;
}
