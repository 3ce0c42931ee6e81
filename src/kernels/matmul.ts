import type { Recorder } from '../gpu/recorder.ts';
import { MAX_WORKGROUPS_PER_DIM, uniforms } from '../gpu/recorder.ts';
import { describe, isQuantDType, numel, type DType, type Tensor } from '../gpu/tensor.ts';
import { recordRows, rowsMaxM } from './matmul-rows.ts';
import { WDTYPE } from './weights.ts';

/** Output tile of one workgroup and K step (shaders/matmul.wgsl). */
const TILE = 64;
const TK = 16;
/**
 * Contractions shorter than this, and products with an output side of at most R_THIN, run on
 * shaders/matmul_direct.wgsl (no workgroup memory, no barriers); the rest on the tiled kernel,
 * except on CPU adapters, where every product runs direct (see Gpu.longMatmul).
 */
export const DIRECT_MAX_K = 256;
const R_THIN = 16;
/** Split-K aims for at least this many workgroups, enough to occupy a large GPU. */
const SPLIT_TARGET_WORKGROUPS = 256;
/** Each split part covers at least this many k. */
const MIN_SPLIT_K = 64;
/** Most parts a contraction is split into. */
export const MAX_SPLIT = 16;
const SHADERS = ['common', 'weights', 'weights_quant', 'matmul_dropout', 'matmul_common', 'matmul'] as const;
const DIRECT_SHADERS = ['common', 'weights', 'weights_quant', 'matmul_dropout', 'matmul_common', 'matmul_direct', 'matmul_vec4'] as const;

/** Inverted dropout with probability p; the mask is a hash of (seed, element index), never stored. */
export interface Dropout {
  p: number;
  seed: number;
}

/** Drop an element when the top 24 bits of its hash fall below this. */
export function dropoutThreshold(p: number): number {
  return Math.round(p * 2 ** 24);
}

/** What a kept element is multiplied by: 1 / (1 − p), rounded to f32 as the shader sees it. */
export function dropoutScale(p: number): number {
  return Math.fround(1 / (1 - p));
}

interface Gemm {
  label: string;
  /** A [batch?, M, K] (transA: [batch?, K, M]), f32. */
  a: Tensor;
  /** B [K, N] (transB: [N, K]), f32/f16/bf16 or quantized (a frozen weight), shared across the batch when bBatchStride is 0. */
  b: Tensor;
  c: Tensor;
  bias?: Tensor;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  batch: number;
  bBatchStride: number;
  alpha: number;
  accumulate: boolean;
  dropout?: Dropout & { at: 'a' | 'b' | 'out' };
  scratch?: Tensor;
  /** Row windows of a split weight: A's and C's leading dimensions and element offsets. */
  lda?: number;
  ldc?: number;
  aOffset?: number;
  cOffset?: number;
}

/**
 * f32 elements of scratch that let a product with an [M, N] output split its contraction fully.
 * Products with few output tiles and a long K (LoRA's [M, R], [R, K], [N, R]) would otherwise
 * run on a handful of workgroups; with scratch, parts of K run side by side and a second pass
 * sums them in a fixed order.
 */
export function splitScratchElements(m: number, n: number): number {
  return MAX_SPLIT * m * n;
}

/**
 * How many parts a product's contraction is split into with `scratchFloats` of split-K scratch
 * (1: one pass). Products with many output tiles, or short contractions, are not split.
 */
export function splitPartsFor(m: number, n: number, k: number, scratchFloats: number, long: 'tiled' | 'direct' = 'tiled'): number {
  const plan = gemmPlan(m, n, k, long);
  const tiles = Math.ceil(m / plan.tileM) * Math.ceil(n / plan.tileN);
  const parts = Math.max(1, Math.min(Math.ceil(SPLIT_TARGET_WORKGROUPS / tiles), Math.floor(k / MIN_SPLIT_K), Math.floor(scratchFloats / (m * n)), MAX_SPLIT));
  if (parts === 1) return 1;
  // Parts cover whole steps of TK; the last may be short, and rounding may leave fewer parts.
  return Math.ceil(k / (Math.ceil(k / parts / TK) * TK));
}

const DROP_AT = { a: 1, b: 2, out: 3 } as const;

function checkDropout(op: string, d: Dropout | undefined): void {
  if (!d) return;
  if (!(d.p >= 0 && d.p < 1)) throw new Error(`${op}: dropout probability ${d.p} must be in [0, 1).`);
  if (!Number.isInteger(d.seed) || d.seed < 0 || d.seed > 0xffffffff) {
    throw new Error(`${op}: dropout seed ${d.seed} must be a whole number in [0, 2^32).`);
  }
}

/**
 * Which kernel a product runs on and its output tile [rows, cols] per workgroup; `long` is the
 * kernel for long contractions on this adapter (Gpu.longMatmul).
 */
export function gemmPlan(m: number, n: number, k: number, long: 'tiled' | 'direct' = 'tiled', maxTx = 16): { direct: boolean; tx: number; tileM: number; tileN: number } {
  if (long === 'tiled' && k >= DIRECT_MAX_K && Math.min(m, n) > R_THIN) return { direct: false, tx: 16, tileM: TILE, tileN: TILE };
  // 64 threads of 8×8 each: TX across the columns (enough to cover N, at most maxTx), 64 / TX down.
  let tx = 1;
  while (tx < maxTx && 8 * tx < n) tx *= 2;
  return { direct: true, tx, tileM: 8 * (64 / tx), tileN: 8 * tx };
}

/**
 * Whether the direct kernel may read A and B four elements at a time (shaders/matmul_vec4.wgsl):
 * every vector it loads starts at a multiple of 4 and lies wholly inside or wholly past its matrix.
 */
export function vec4Aligned(g: Pick<Gemm, 'm' | 'n' | 'k' | 'transA' | 'transB' | 'lda' | 'ldc' | 'aOffset' | 'cOffset' | 'bBatchStride'>): boolean {
  const lda = g.lda ?? (g.transA ? g.m : g.k);
  const ldb = g.transB ? g.k : g.n;
  const whole = [g.k, g.n, lda, ldb, g.ldc ?? g.n, g.aOffset ?? 0, g.cOffset ?? 0, g.bBatchStride, g.transA ? g.m : 0];
  return whole.every((v) => v % 4 === 0);
}

function recordGemm(rec: Recorder, g: Gemm): void {
  // x·Wᵀ of a few rows (generation) streams the weight once on shaders/matmul_rows.wgsl.
  if (g.m <= rowsMaxM(rec.gpu.longMatmul) && g.transB && !g.transA && g.batch === 1 && !(g.dropout && g.dropout.p > 0) && !g.aOffset && rec.gpu.rowsMatmul) {
    recordRows(rec, {
      label: g.label, x: g.a, w: g.b, y: g.c, bias: g.bias, m: g.m, n: g.n, k: g.k, alpha: g.alpha, accumulate: g.accumulate,
      lda: g.lda ?? g.k, ldc: g.ldc ?? g.n, cOffset: g.cOffset ?? 0,
    });
    return;
  }
  const plan = gemmPlan(g.m, g.n, g.k, rec.gpu.longMatmul, rec.gpu.matmulMaxTx);
  const vec4 = plan.direct && rec.gpu.matmulVec4 && vec4Aligned(g);
  const tilesN = Math.ceil(g.n / plan.tileN);
  const tiles = Math.ceil(g.m / plan.tileM) * tilesN;
  const drop = g.dropout && g.dropout.p > 0 ? g.dropout : undefined;
  let parts = g.scratch && g.batch === 1 ? splitPartsFor(g.m, g.n, g.k, numel(g.scratch.shape), rec.gpu.longMatmul) : 1;
  const kChunk = parts > 1 ? Math.ceil(g.k / parts / TK) * TK : g.k;
  if (parts > 1) parts = Math.ceil(g.k / kChunk);
  const split = parts > 1 ? g.scratch : undefined;
  rec.dispatch({
    label: g.label,
    pipeline: {
      shaders: plan.direct ? DIRECT_SHADERS : SHADERS,
      entry: plan.direct ? (vec4 ? 'matmul_vec4' : 'matmul_direct') : 'matmul',
      constants: {
        ...(plan.direct ? { TX: plan.tx } : {}),
        A_T: g.transA ? 1 : 0,
        B_T: g.transB ? 1 : 0,
        WDTYPE: WDTYPE[g.b.dtype]!,
        ACCUMULATE: g.accumulate && !split ? 1 : 0,
        HAS_BIAS: g.bias && !split ? 1 : 0,
        DROP_AT: drop ? DROP_AT[drop.at] : 0,
      },
    },
    uniforms: uniforms(
      g.m, g.n, g.k, tilesN,
      tiles, g.lda ?? (g.transA ? g.m : g.k), g.transB ? g.k : g.n, g.ldc ?? g.n,
      g.m * g.k, g.bBatchStride, g.m * g.n, { f: g.alpha },
      drop ? dropoutThreshold(drop.p) : 0, drop ? drop.seed : 0, { f: drop ? dropoutScale(drop.p) : 1 }, kChunk,
      split ? parts : 1, g.aOffset ?? 0, g.cOffset ?? 0, 0,
    ),
    // Without a bias, A is bound in its place (read-only, never read) so the layout stays the same.
    // The vec4 entry point reads A and writes C only through its vector bindings (5 and 7).
    bindings: vec4
      ? [null, g.b, (!split && g.bias) || g.a, null, g.a, g.b, split ?? g.c]
      : [g.a, g.b, (!split && g.bias) || g.a, split ?? g.c],
    workgroups: [tiles, 1, split ? parts : g.batch],
  });
  if (!split) return;
  const total = g.m * g.n;
  rec.dispatch({
    label: `${g.label} (sum of ${parts} parts)`,
    pipeline: {
      shaders: ['common', 'matmul_reduce'],
      entry: 'matmul_reduce',
      constants: { ACCUMULATE: g.accumulate ? 1 : 0, HAS_BIAS: g.bias ? 1 : 0 },
    },
    uniforms: uniforms(total, g.n, parts),
    bindings: [split, g.bias ?? split, g.c],
    workgroups: [Math.ceil(total / 256)],
  });
}

function checkScratch(op: string, t: Tensor | undefined): void {
  if (t && t.dtype !== 'f32') throw new Error(`${op}: scratch is ${describe(t)} but must be f32.`);
}

function rowsOf(op: string, name: string, t: Tensor, cols: number, dtypes: readonly DType[]): number {
  const last = t.shape[t.shape.length - 1];
  if (t.shape.length < 1 || last !== cols) {
    throw new Error(`${op}: ${name} is ${describe(t)} but its last dimension must be ${cols}.`);
  }
  if (!dtypes.includes(t.dtype)) throw new Error(`${op}: ${name} is ${describe(t)} but one of ${dtypes.join('/')} is needed.`);
  return numel(t.shape) / cols;
}

function weightDims(op: string, w: Tensor): [number, number] {
  if (w.shape.length !== 2 || WDTYPE[w.dtype] === undefined) {
    throw new Error(`${op}: weight is ${describe(w)} but a 2-D [out, in] f32/f16/bf16 or quantized tensor is needed.`);
  }
  if (w.shape[0] < 1 || w.shape[1] < 1) throw new Error(`${op}: weight ${describe(w)} is empty.`);
  // The kernels decode quantized rows four elements at a time: rows must be whole 32-element blocks.
  if (isQuantDType(w.dtype) && w.shape[1] % 32 !== 0) throw new Error(`${op}: quantized weight ${describe(w)} has rows of ${w.shape[1]}, not whole blocks.`);
  return [w.shape[0], w.shape[1]];
}

function sameRows(op: string, name: string, t: Tensor, like: Tensor, cols: number): void {
  const shape = [...like.shape.slice(0, -1), cols];
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) && t.dtype === 'f32';
  if (!ok) throw new Error(`${op}: ${name} is ${describe(t)} but f32[${shape.join(', ')}] is needed.`);
}

export interface LinearForward {
  /** x [..., K] (rows M = B·T), f32. */
  x: Tensor;
  /** W [N, K] (HF [out, in]), f32/f16/bf16 or quantized. */
  w: Tensor;
  /** bias [N], f32, added after alpha. */
  bias?: Tensor;
  /** y [..., N], f32. */
  y: Tensor;
  alpha?: number;
  /** y += … instead of y = … (the residual convention). */
  accumulate?: boolean;
  /** Dropout applied to x's elements as they are read. */
  dropout?: Dropout;
  /** f32 workspace for split-K (see splitScratchElements); without it the product runs in one pass. */
  scratch?: Tensor;
}

/** y [M, N] (+)= alpha · x [M, K] · Wᵀ + bias. */
export function linearForward(rec: Recorder, o: LinearForward): void {
  const op = 'linearForward';
  const [n, k] = weightDims(op, o.w);
  const m = rowsOf(op, 'x', o.x, k, ['f32']);
  sameRows(op, 'y', o.y, o.x, n);
  if (o.bias && (o.bias.shape.length !== 1 || o.bias.shape[0] !== n || o.bias.dtype !== 'f32')) {
    throw new Error(`${op}: bias is ${describe(o.bias)} but f32[${n}] is needed.`);
  }
  checkDropout(op, o.dropout);
  checkScratch(op, o.scratch);
  const base = {
    label: `linear ${o.y.label}`, a: o.x, c: o.y, bias: o.bias, m, k, transA: false, transB: true,
    batch: 1, bBatchStride: 0, alpha: o.alpha ?? 1, accumulate: o.accumulate ?? false,
    dropout: o.dropout && { ...o.dropout, at: 'a' as const },
  };
  if (!o.w.rowWindows) {
    recordGemm(rec, { ...base, b: o.w, n, scratch: o.scratch });
    return;
  }
  // A weight split into row windows: window [r0, r0 + rows) writes columns r0.. of y (no split-K:
  // the scratch slabs would not hold y's row stride).
  let r0 = 0;
  for (const win of o.w.rowWindows) {
    recordGemm(rec, { ...base, label: `${base.label} rows ${r0}+`, b: win, n: win.shape[0], ldc: n, cOffset: r0 });
    r0 += win.shape[0];
  }
}

export interface LinearBackwardInput {
  /** dY [..., N], f32. */
  dy: Tensor;
  /** W [N, K], f32/f16/bf16 or quantized. */
  w: Tensor;
  /** dX [..., K], f32. */
  dx: Tensor;
  alpha?: number;
  /** dX += … (when several paths feed dX). */
  accumulate?: boolean;
  /** Dropout applied to the result, masked by dX's element index (the dropped input's gradient). */
  dropout?: Dropout;
  /** f32 workspace for split-K (see splitScratchElements). */
  scratch?: Tensor;
}

/** dX [M, K] (+)= alpha · dY [M, N] · W [N, K]: the gradient through a frozen weight. */
export function linearBackwardInput(rec: Recorder, o: LinearBackwardInput): void {
  const op = 'linearBackwardInput';
  const [n, k] = weightDims(op, o.w);
  const m = rowsOf(op, 'dy', o.dy, n, ['f32']);
  sameRows(op, 'dx', o.dx, o.dy, k);
  checkDropout(op, o.dropout);
  checkScratch(op, o.scratch);
  const base = {
    label: `linear dx ${o.dx.label}`, a: o.dy, c: o.dx, m, n: k, transA: false, transB: false,
    batch: 1, bBatchStride: 0, alpha: o.alpha ?? 1, dropout: o.dropout && { ...o.dropout, at: 'out' as const },
  };
  if (!o.w.rowWindows) {
    recordGemm(rec, { ...base, b: o.w, k: n, accumulate: o.accumulate ?? false, scratch: o.scratch });
    return;
  }
  // Row windows: dX = Σ_w dY[:, r0:r1] · W_w, the first window writing (or adding, with
  // accumulate), the rest adding. The dropout mask multiplies each part alike.
  let r0 = 0;
  o.w.rowWindows.forEach((win, i) => {
    recordGemm(rec, { ...base, label: `${base.label} rows ${r0}+`, b: win, k: win.shape[0], lda: n, aOffset: r0, accumulate: i > 0 || (o.accumulate ?? false) });
    r0 += win.shape[0];
  });
}

export interface LinearBackwardWeight {
  /** dY [..., N], f32. */
  dy: Tensor;
  /** x [..., K], f32. */
  x: Tensor;
  /** dW [N, K], f32. */
  dw: Tensor;
  alpha?: number;
  /** Parameter gradients accumulate (+=) unless this is false. */
  accumulate?: boolean;
  /** Dropout applied to x's elements as they are read. */
  dropout?: Dropout;
  /** f32 workspace for split-K (see splitScratchElements). */
  scratch?: Tensor;
}

/** dW [N, K] += alpha · dYᵀ [N, M] · x [M, K]: a weight gradient, summed over all rows M. */
export function linearBackwardWeight(rec: Recorder, o: LinearBackwardWeight): void {
  const op = 'linearBackwardWeight';
  if (o.dw.shape.length !== 2 || o.dw.dtype !== 'f32') throw new Error(`${op}: dw is ${describe(o.dw)} but a 2-D f32 [N, K] is needed.`);
  const [n, k] = o.dw.shape;
  const m = rowsOf(op, 'dy', o.dy, n, ['f32']);
  sameRows(op, 'x', o.x, o.dy, k);
  checkDropout(op, o.dropout);
  checkScratch(op, o.scratch);
  recordGemm(rec, {
    label: `linear dw ${o.dw.label}`, a: o.dy, b: o.x, c: o.dw, m: n, n: k, k: m, transA: true, transB: false,
    batch: 1, bBatchStride: 0, alpha: o.alpha ?? 1, accumulate: o.accumulate ?? true,
    dropout: o.dropout && { ...o.dropout, at: 'b' }, scratch: o.scratch,
  });
}

export interface Matmul {
  /** a [batch?, M, K], or [batch?, K, M] with transA; f32. */
  a: Tensor;
  /** b [batch?, K, N], or [batch?, N, K] with transB; f32. A 2-D b is shared by every batch. */
  b: Tensor;
  /** c [batch?, M, N]; f32. */
  c: Tensor;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  accumulate?: boolean;
}

/** c (+)= alpha · op(a) · op(b) with f32 operands, batched over an optional leading dimension. */
export function matmul(rec: Recorder, o: Matmul): void {
  const op = 'matmul';
  for (const [name, t] of [['a', o.a], ['b', o.b], ['c', o.c]] as const) {
    if (t.dtype !== 'f32' || t.shape.length < 2 || t.shape.length > 3) {
      throw new Error(`${op}: ${name} is ${describe(t)} but a 2-D or 3-D f32 tensor is needed.`);
    }
  }
  const batch = o.a.shape.length === 3 ? o.a.shape[0] : 1;
  if (batch > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${op}: ${batch} batches exceed the ${MAX_WORKGROUPS_PER_DIM} one dispatch can hold; split the batch into several calls.`);
  }
  const [ar, ac] = o.a.shape.slice(-2);
  const [br, bc] = o.b.shape.slice(-2);
  const [m, k] = o.transA ? [ac, ar] : [ar, ac];
  const [kb, n] = o.transB ? [bc, br] : [br, bc];
  if (kb !== k) throw new Error(`${op}: inner dimensions differ: a ${describe(o.a)} gives K=${k}, b ${describe(o.b)} gives K=${kb}.`);
  if (o.b.shape.length === 3 && o.b.shape[0] !== batch) {
    throw new Error(`${op}: b ${describe(o.b)} has ${o.b.shape[0]} batches, a has ${batch}.`);
  }
  const cShape = o.a.shape.length === 3 ? [batch, m, n] : [m, n];
  if (o.c.shape.length !== cShape.length || o.c.shape.some((d, i) => d !== cShape[i])) {
    throw new Error(`${op}: c is ${describe(o.c)} but [${cShape.join(', ')}] is needed.`);
  }
  recordGemm(rec, {
    label: `matmul ${o.c.label}`, a: o.a, b: o.b, c: o.c, m, n, k, transA: o.transA ?? false, transB: o.transB ?? false,
    batch, bBatchStride: o.b.shape.length === 3 ? k * n : 0, alpha: o.alpha ?? 1, accumulate: o.accumulate ?? false,
  });
}
