/**
 * One projection of a block, frozen or with its LoRA pair: forward and backward side by side.
 * y = x·Wᵀ + b (+ s·drop(x)·Aᵀ·Bᵀ). A row block of a fused module (GPT-2's c_attn → q, k, v) is a
 * projection like any other: its W, bias and B are views of the fused tensors' aligned row blocks
 * (gpu-weights.ts, lora/layout.ts) and its A is the module's shared A, so dA sums the blocks' terms.
 */
import type { Recorder } from '../gpu/recorder.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { dropoutHash, loraBackward, loraForward } from '../kernels/lora.ts';
import { linearBackwardInput, linearForward } from '../kernels/matmul.ts';

export interface LoraSite {
  /** A [R, K] and B [N, R] views into the flat parameter buffer. */
  a: Tensor;
  b: Tensor;
  /** dA, dB views into the flat gradient buffer (training). */
  da?: Tensor;
  db?: Tensor;
  /** Saved h = drop(x)·Aᵀ [rows, R]. */
  h: Tensor;
  scale: number;
  dropout: number;
  /** The module's own dropout seed (moduleSeed). */
  seed: number;
  /**
   * Training: f32 split-K workspace shared by every module (grad.split), so the thin products of
   * the adapter (h, dh [rows, R], dA [R, K], dB [N, R], contractions over K, N or all rows) run on
   * enough workgroups to fill a large GPU.
   */
  split?: Tensor;
}

export interface LinearSite {
  name: string;
  /** Frozen W [N, K] and bias [N]. */
  w: Tensor;
  bias?: Tensor;
  lora: LoraSite | null;
}

/** The dropout seed of module `index` (its place in the adapter layout) for a step's seed. */
export function moduleSeed(stepSeed: number, index: number): number {
  return dropoutHash((stepSeed + Math.imul(index + 1, 0x9e3779b9)) >>> 0);
}

/** y = x·Wᵀ + b (+ s·h·Bᵀ with h = drop(x)·Aᵀ), written with =. */
export function linearSiteForward(rec: Recorder, site: LinearSite, x: Tensor, y: Tensor): void {
  const { lora, w, bias } = site;
  if (!lora) {
    linearForward(rec, { x, w, bias, y });
    return;
  }
  loraForward(rec, { x, w, bias, a: lora.a, b: lora.b, scale: lora.scale, dropout: lora.dropout, seed: lora.seed, y, h: lora.h, scratch: lora.split });
}

/** Only the LoRA h = drop(x)·Aᵀ of linearSiteForward (the same dispatch); nothing for a frozen module. */
export function linearSiteHidden(rec: Recorder, site: LinearSite, x: Tensor): void {
  const { lora } = site;
  if (!lora) return;
  linearForward(rec, { x, w: lora.a, y: lora.h, dropout: { p: lora.dropout, seed: lora.seed }, scratch: lora.split });
}

/**
 * dx (=, or += with accumulateDx) from the output's gradient dy; dA and dB += when adapted.
 * `x` is the forward's input (read only by LoRA's dA); `dh` is scratch [rows, R].
 */
export function linearSiteBackward(rec: Recorder, site: LinearSite, x: Tensor, dy: Tensor, dx: Tensor, dh: Tensor | null, accumulateDx: boolean): void {
  const { lora, w } = site;
  if (!lora) {
    linearBackwardInput(rec, { dy, w, dx, accumulate: accumulateDx });
    return;
  }
  if (!lora.da || !lora.db || !dh) throw new Error(`${site.name}: LoRA backward needs gradient buffers; create the network with training: true.`);
  loraBackward(rec, {
    x, w, a: lora.a, b: lora.b, h: lora.h, dy, scale: lora.scale, dropout: lora.dropout, seed: lora.seed,
    dx, da: lora.da, db: lora.db, dh, accumulateDx, scratch: lora.split,
  });
}
