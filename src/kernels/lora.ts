import { WDTYPE } from './weights.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { describe, numel, type Tensor } from '../gpu/tensor.ts';
import { dropoutThreshold, linearBackwardInput, linearBackwardWeight, linearForward, MAX_SPLIT } from './matmul.ts';

/**
 * A LoRA linear layer with PEFT's math: y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ, with A [R, K],
 * B [N, R] and s = alpha / r (alpha / √r with rsLoRA; the caller computes s). Every product is a
 * matmul.wgsl dispatch; inverted dropout is a hash of (seed, element index of x), so the backward
 * pass recomputes the forward's mask instead of storing it.
 */

/** lowbias32, the integer hash behind the dropout mask; shaders/matmul_dropout.wgsl is its twin. */
export function dropoutHash(v: number): number {
  let x = v >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Whether element `index` of x survives dropout with probability p under `seed` (same as the GPU). */
export function dropoutKeep(seed: number, index: number, p: number): boolean {
  if (p === 0) return true;
  return dropoutHash((index ^ dropoutHash(seed)) >>> 0) >>> 8 >= dropoutThreshold(p);
}

export interface LoraForward {
  /** x [..., K] (rows M = B·T), f32. */
  x: Tensor;
  /** Frozen W [N, K], f32/f16/bf16. */
  w: Tensor;
  /** Frozen bias [N], f32. */
  bias?: Tensor;
  /** A [R, K], f32. */
  a: Tensor;
  /** B [N, R], f32. */
  b: Tensor;
  /** s = alpha / r (or alpha / √r). */
  scale: number;
  /** Dropout probability on the adapter's input; 0 is the identity. */
  dropout: number;
  seed: number;
  /** y [..., N], written. */
  y: Tensor;
  /** h = drop(x)·Aᵀ [..., R], written and kept for the backward pass. */
  h: Tensor;
  /** Optional f32 workspace of loraScratchElements(M, K, N, R) for split-K of the rank-R products. */
  scratch?: Tensor;
}

export interface LoraBackward {
  x: Tensor;
  w: Tensor;
  a: Tensor;
  b: Tensor;
  /** h [..., R] saved by the forward pass. */
  h: Tensor;
  /** dY [..., N]. */
  dy: Tensor;
  scale: number;
  dropout: number;
  seed: number;
  /** dX [..., K], written (or added to with accumulateDx). */
  dx: Tensor;
  /** dA [R, K] and dB [N, R], accumulated (+=). */
  da: Tensor;
  db: Tensor;
  /** Scratch dh = s·dY·B [..., R], planned with the rest of the step's memory. */
  dh: Tensor;
  accumulateDx?: boolean;
  /** Optional f32 workspace of loraScratchElements(M, K, N, R) for split-K of the rank-R products. */
  scratch?: Tensor;
}

/**
 * Scratch that lets every thin product of the layer ([M, R], [R, K], [N, R] outputs, whose
 * contractions run over K, M or N) split its contraction across workgroups.
 */
export function loraScratchElements(m: number, k: number, n: number, r: number): number {
  return MAX_SPLIT * Math.max(m * r, r * k, n * r);
}

interface Dims {
  m: number;
  k: number;
  n: number;
  r: number;
}

function need(op: string, name: string, t: Tensor, shape: readonly number[], what: string): void {
  const ok = t.dtype === 'f32' && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!ok) throw new Error(`${op}: ${name} is ${describe(t)} but f32[${shape.join(', ')}] is needed (${what}).`);
}

/** Reads M, K, N, R from x, W, A and checks A, B, the optional bias and the dropout settings. */
function dims(op: string, o: { x: Tensor; w: Tensor; a: Tensor; b: Tensor; bias?: Tensor; dropout: number; seed: number; scale: number }): Dims {
  if (o.w.shape.length !== 2 || WDTYPE[o.w.dtype] === undefined) {
    throw new Error(`${op}: w is ${describe(o.w)} but a frozen weight [N, K] in f32/f16/bf16 or a quantized type is needed.`);
  }
  const [n, k] = o.w.shape;
  if (o.x.dtype !== 'f32' || o.x.shape.length < 1 || o.x.shape[o.x.shape.length - 1] !== k) {
    throw new Error(`${op}: x is ${describe(o.x)} but f32[..., ${k}] is needed (K = ${k} from w ${describe(o.w)}).`);
  }
  if (o.a.shape.length !== 2) throw new Error(`${op}: a is ${describe(o.a)} but LoRA A must be [R, K].`);
  const r = o.a.shape[0];
  need(op, 'a', o.a, [r, k], `LoRA A [R, K], K = ${k}`);
  need(op, 'b', o.b, [n, r], `LoRA B [N, R], N = ${n}, R = ${r}`);
  if (o.bias) need(op, 'bias', o.bias, [n], `bias [N]`);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw new Error(`${op}: dropout ${o.dropout} must be in [0, 1).`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new Error(`${op}: seed ${o.seed} must be a whole number in [0, 2^32).`);
  if (!Number.isFinite(o.scale)) throw new Error(`${op}: scale ${o.scale} is not a finite number.`);
  return { m: numel(o.x.shape) / k, k, n, r };
}

function rows(x: Tensor, cols: number): number[] {
  return [...x.shape.slice(0, -1), cols];
}

/** y = x·Wᵀ + b + s·h·Bᵀ with h = drop(x)·Aᵀ saved for the backward pass. */
export function loraForward(rec: Recorder, o: LoraForward): void {
  const op = 'loraForward';
  const d = dims(op, o);
  need(op, 'y', o.y, rows(o.x, d.n), `output [M, N], M = ${d.m}`);
  need(op, 'h', o.h, rows(o.x, d.r), `saved h [M, R], M = ${d.m}`);
  const dropout = { p: o.dropout, seed: o.seed };
  linearForward(rec, { x: o.x, w: o.w, bias: o.bias, y: o.y });
  linearForward(rec, { x: o.x, w: o.a, y: o.h, dropout, scratch: o.scratch });
  linearForward(rec, { x: o.h, w: o.b, y: o.y, alpha: o.scale, accumulate: true });
}

/**
 * Given dY: dB += s·dYᵀ·h; dh = s·dY·B; dA += dhᵀ·drop(x); dX = dY·W + drop'(dh·A), where drop'
 * applies the forward's mask and 1/(1−p) to the adapter path's share of dX.
 */
export function loraBackward(rec: Recorder, o: LoraBackward): void {
  const op = 'loraBackward';
  const d = dims(op, o);
  need(op, 'h', o.h, rows(o.x, d.r), `saved h [M, R], M = ${d.m}`);
  need(op, 'dy', o.dy, rows(o.x, d.n), `dY [M, N], M = ${d.m}`);
  need(op, 'dx', o.dx, o.x.shape, `dX like x`);
  need(op, 'da', o.da, [d.r, d.k], `dA [R, K]`);
  need(op, 'db', o.db, [d.n, d.r], `dB [N, R]`);
  need(op, 'dh', o.dh, rows(o.x, d.r), `scratch dh [M, R], M = ${d.m}`);
  const dropout = { p: o.dropout, seed: o.seed };
  linearBackwardWeight(rec, { dy: o.dy, x: o.h, dw: o.db, alpha: o.scale, scratch: o.scratch });
  linearBackwardInput(rec, { dy: o.dy, w: o.b, dx: o.dh, alpha: o.scale, scratch: o.scratch });
  linearBackwardWeight(rec, { dy: o.dh, x: o.x, dw: o.da, dropout, scratch: o.scratch });
  linearBackwardInput(rec, { dy: o.dy, w: o.w, dx: o.dx, accumulate: o.accumulateDx ?? false });
  linearBackwardInput(rec, { dy: o.dh, w: o.a, dx: o.dx, accumulate: true, dropout });
}

/** FLOPs of loraForward + loraBackward (2 per multiply-add): 4·M·N·K + 6·M·R·(N + K). */
export function loraFlops(m: number, k: number, n: number, r: number): number {
  return 4 * m * n * k + 6 * m * r * (n + k);
}
