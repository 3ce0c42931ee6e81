/**
 * One linear module of a block, frozen or with its LoRA pair: forward and backward side by side.
 * A module has one part (y = x·Wᵀ + b), or three for GPT-2's fused c_attn, whose q, k and v
 * thirds are separate weights on the GPU (see gpu-weights.ts) while its LoRA pair stays PEFT's
 * A [R, C], B [3C, R]: B's row blocks are copied into scratch [C, R] tensors (rows are contiguous,
 * so a buffer copy does it) and dB's blocks are gathered back the same way.
 */
import type { Recorder } from '../gpu/recorder.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { dropoutHash, loraBackward, loraForward } from '../kernels/lora.ts';
import { linearBackwardInput, linearBackwardWeight, linearForward } from '../kernels/matmul.ts';
import { accumulate } from '../kernels/residual.ts';

export interface LinearPart {
  w: Tensor;
  bias?: Tensor;
}

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
  /** Three-part modules: scratch [N/3, R] copies of B's row blocks, and dB scratch (training). */
  bParts?: Tensor[];
  dbParts?: Tensor[];
  db3?: Tensor;
}

export interface LinearSite {
  name: string;
  parts: LinearPart[];
  lora: LoraSite | null;
}

/** The dropout seed of module `index` (its place in the adapter layout) for a step's seed. */
export function moduleSeed(stepSeed: number, index: number): number {
  return dropoutHash((stepSeed + Math.imul(index + 1, 0x9e3779b9)) >>> 0);
}

/** Copies B's row blocks [N/parts, R] into the scratch part tensors (before the forward). */
function splitB(rec: Recorder, lora: LoraSite): void {
  let offset = 0;
  for (const part of lora.bParts!) {
    const bytes = part.shape[0] * part.shape[1] * 4;
    rec.copy(lora.b, part, bytes, offset, 0);
    offset += bytes;
  }
}

/** ys[i] = x·W_iᵀ + b_i (+ s·h·B_iᵀ with h = drop(x)·Aᵀ), written with =. */
export function linearSiteForward(rec: Recorder, site: LinearSite, x: Tensor, ys: Tensor[]): void {
  const { lora, parts } = site;
  if (ys.length !== parts.length) throw new Error(`${site.name}: ${parts.length} outputs are needed, ${ys.length} given.`);
  if (!lora) {
    parts.forEach((p, i) => linearForward(rec, { x, w: p.w, bias: p.bias, y: ys[i] }));
    return;
  }
  if (parts.length === 1) {
    loraForward(rec, { x, w: parts[0].w, bias: parts[0].bias, a: lora.a, b: lora.b, scale: lora.scale, dropout: lora.dropout, seed: lora.seed, y: ys[0], h: lora.h, scratch: lora.split });
    return;
  }
  splitB(rec, lora);
  linearForward(rec, { x, w: lora.a, y: lora.h, dropout: { p: lora.dropout, seed: lora.seed }, scratch: lora.split });
  parts.forEach((p, i) => {
    linearForward(rec, { x, w: p.w, bias: p.bias, y: ys[i] });
    linearForward(rec, { x: lora.h, w: lora.bParts![i], y: ys[i], alpha: lora.scale, accumulate: true });
  });
}

/** Only the LoRA h = drop(x)·Aᵀ of linearSiteForward (the same dispatch); nothing for a frozen module. */
export function linearSiteHidden(rec: Recorder, site: LinearSite, x: Tensor): void {
  const { lora } = site;
  if (!lora) return;
  if (lora.bParts) splitB(rec, lora);
  linearForward(rec, { x, w: lora.a, y: lora.h, dropout: { p: lora.dropout, seed: lora.seed }, scratch: lora.split });
}

/**
 * dx (=, or += with accumulateDx) from the outputs' gradients dys; dA and dB += when adapted.
 * `x` is the forward's input (read only by LoRA's dA); `dh` is scratch [rows, R].
 */
export function linearSiteBackward(rec: Recorder, site: LinearSite, x: Tensor, dys: Tensor[], dx: Tensor, dh: Tensor | null, accumulateDx: boolean): void {
  const { lora, parts } = site;
  if (!lora) {
    parts.forEach((p, i) => linearBackwardInput(rec, { dy: dys[i], w: p.w, dx, accumulate: accumulateDx || i > 0 }));
    return;
  }
  if (!lora.da || !lora.db || !dh) throw new Error(`${site.name}: LoRA backward needs gradient buffers; create the network with training: true.`);
  if (parts.length === 1) {
    loraBackward(rec, {
      x, w: parts[0].w, a: lora.a, b: lora.b, h: lora.h, dy: dys[0], scale: lora.scale, dropout: lora.dropout, seed: lora.seed,
      dx, da: lora.da, db: lora.db, dh, accumulateDx, scratch: lora.split,
    });
    return;
  }
  // The B blocks are scratch shared by the layers: copy this layer's again.
  splitB(rec, lora);
  // dB_i = s·dY_iᵀ·h into scratch, gathered into [3C, R] and added to dB.
  let offset = 0;
  parts.forEach((_, i) => {
    const dbi = lora.dbParts![i];
    linearBackwardWeight(rec, { dy: dys[i], x: lora.h, dw: dbi, alpha: lora.scale, accumulate: false });
    const bytes = dbi.shape[0] * dbi.shape[1] * 4;
    rec.copy(dbi, lora.db3!, bytes, 0, offset);
    offset += bytes;
  });
  accumulate(rec, lora.db3!, lora.db);
  // dh = s·Σ dY_i·B_i; dA += dhᵀ·drop(x); dX = Σ dY_i·W_i + drop'(dh·A).
  const dropout = { p: lora.dropout, seed: lora.seed };
  parts.forEach((p, i) => {
    linearBackwardInput(rec, { dy: dys[i], w: lora.bParts![i], dx: dh, alpha: lora.scale, accumulate: i > 0 });
    linearBackwardInput(rec, { dy: dys[i], w: p.w, dx, accumulate: accumulateDx || i > 0 });
  });
  linearBackwardWeight(rec, { dy: dh, x, dw: lora.da, dropout });
  linearBackwardInput(rec, { dy: dh, w: lora.a, dx, accumulate: true, dropout });
}
