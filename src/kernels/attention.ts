import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock, type PackedUniforms } from '../gpu/uniform-block.ts';

/** shaders/attention_common.wgsl's uniforms, shared by every attention kernel. */
export const ATTENTION_PARAMS = uniformBlock('attention_common', 'Params', {
  B: 'u32', T: 'u32', S: 'u32', H: 'u32', KV: 'u32', D: 'u32', past: 'u32', scale: 'f32', window: 'u32',
});

/**
 * Causal self-attention with grouped-query heads (Llama, Mistral, Qwen2; GPT-2 is KV = H) and a
 * key padding mask, f32.
 *
 * q, out [B, T, H, D] (the q_proj output after RoPE); k, v [B, S, KV, D] with S ≥ past + T (S = T
 * in training; the KV cache's Smax in generation). Query t sits at position past + t and sees the
 * keys s ≤ past + t whose keyMask [B, S] (u32, 1 = real token) is set, and with a sliding window W
 * only those with past + t − s < W (Mistral; Gemma 3's local layers). Head h reads kv head
 * h / (H / KV). A query that sees no key outputs zeros.
 *
 * The forward saves, instead of the [B, H, T, S] probabilities, the row log-sum-exp in
 * stats [2, B, H, T] (first half); the backward recomputes the probabilities from it and uses the
 * second half for its row terms Σ dOut·out. Keep stats from the forward to the backward of a layer.
 */
export interface AttentionDims {
  B: number;
  T: number;
  /** Key length: rows of the k/v buffers (and keyMask columns). */
  S: number;
  H: number;
  KV: number;
  /** Head dimension, at most MAX_HEAD_DIM. */
  D: number;
  /** Keys already in the cache before these T queries (generation); 0 in training. */
  past?: number;
  /** Score scale; 1/√D unless given. */
  scale?: number;
  /** Sliding window W: query at position p sees keys at positions > p − W only (0 or absent: none). */
  window?: number;
}

/** Gemma 3's heads are 256 wide. */
export const MAX_HEAD_DIM = 256;
const SHADERS = ['common', 'attention_common'];
/**
 * Heads up to this size run one thread per query (or key) row with the row in registers
 * (attention_rows*.wgsl: no workgroup memory, no barriers); larger heads use the tiled kernels.
 */
export const ROWS_MAX_HEAD_DIM = 16;
const ROWS_PER_WORKGROUP = 64;

/** A rows kernel's shaders: its row loads four elements at a time when D is a multiple of 4. */
function rowsShaders(d: AttentionDims, kernel: string): string[] {
  return [...SHADERS, 'attention_rows_common', d.D % 4 === 0 ? 'attention_rows_vec4' : 'attention_rows_scalar', kernel];
}

function rowsPath(d: AttentionDims): boolean {
  return d.D <= ROWS_MAX_HEAD_DIM;
}

/** Shape of the softmax statistics buffer: [2, B, H, T]. */
export function attentionStatsShape(d: AttentionDims): number[] {
  return [2, d.B, d.H, d.T];
}

/**
 * Bytes of the stats buffer one attention layer keeps from its forward to its backward
 * (2·B·H·T f32): the only memory attention needs besides its inputs and outputs.
 */
export function attentionScratchBytes(d: AttentionDims): number {
  return 2 * d.B * d.H * d.T * 4;
}

function checkDims(op: string, d: AttentionDims): { past: number; scale: number } {
  const past = d.past ?? 0;
  const window = d.window ?? 0;
  if (!Number.isInteger(window) || window < 0) throw new Error(`${op}: sliding window = ${window} must be a whole number ≥ 0 (0: none).`);
  for (const [name, x] of Object.entries({ B: d.B, T: d.T, S: d.S, H: d.H, KV: d.KV, D: d.D })) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`${op}: ${name} = ${x} must be a positive integer.`);
  }
  if (!Number.isInteger(past) || past < 0) throw new Error(`${op}: past = ${past} must be a non-negative integer.`);
  if (d.H % d.KV !== 0) throw new Error(`${op}: H = ${d.H} query heads is not a multiple of KV = ${d.KV} kv heads.`);
  if (d.D > MAX_HEAD_DIM) throw new Error(`${op}: head dimension D = ${d.D} is larger than the ${MAX_HEAD_DIM} this kernel supports.`);
  if (past + d.T > d.S) {
    throw new Error(`${op}: past + T = ${past} + ${d.T} keys are needed but k/v hold only S = ${d.S}; grow the KV cache.`);
  }
  return { past, scale: d.scale ?? 1 / Math.sqrt(d.D) };
}

/**
 * Pipeline constants of the tiled kernels: the tile row stride MAX_D (D rounded up to a power of
 * two, at least 16) and, for heads wider than 128, halved tiles, so every kernel keeps within the
 * ~25 KB of workgroup memory it uses at D = 128.
 */
function tileConstants(d: AttentionDims, kernel: 'forward' | 'backward_q' | 'backward_kv'): Record<string, number> {
  let cap = 16;
  while (cap < d.D) cap *= 2;
  if (cap <= 128) return { MAX_D: cap };
  return { MAX_D: cap, ...{ forward: { FQ: 8, KT: 8 }, backward_q: { QQ: 4, KT: 8 }, backward_kv: { KK: 4, KQ: 8 } }[kernel] };
}

/** Rows (or keys) one workgroup of a tiled kernel covers. */
function tileRows(d: AttentionDims, kernel: 'forward' | 'backward_q' | 'backward_kv'): number {
  const c = tileConstants(d, kernel);
  return kernel === 'forward' ? (c.FQ ?? 16) : kernel === 'backward_q' ? (c.QQ ?? 8) : (c.KK ?? 8);
}

function params(d: AttentionDims, past: number, scale: number): PackedUniforms {
  return ATTENTION_PARAMS.pack({ B: d.B, T: d.T, S: d.S, H: d.H, KV: d.KV, D: d.D, past, scale, window: d.window ?? 0 });
}

function checkInputs(op: string, d: AttentionDims, q: Tensor, k: Tensor, v: Tensor, keyMask: Tensor, stats: Tensor): void {
  expectShape(op, 'q', q, [d.B, d.T, d.H, d.D], ['f32']);
  expectShape(op, 'k', k, [d.B, d.S, d.KV, d.D], ['f32']);
  expectShape(op, 'v', v, [d.B, d.S, d.KV, d.D], ['f32']);
  expectShape(op, 'keyMask', keyMask, [d.B, d.S], ['u32']);
  expectShape(op, 'stats', stats, attentionStatsShape(d), ['f32']);
}

/** out = softmax(scale · q kᵀ + causal/padding mask) v; writes the row log-sum-exp into stats. */
export function attentionForward(rec: Recorder, q: Tensor, k: Tensor, v: Tensor, keyMask: Tensor, out: Tensor, stats: Tensor, d: AttentionDims): void {
  const op = 'attention forward';
  const { past, scale } = checkDims(op, d);
  checkInputs(op, d, q, k, v, keyMask, stats);
  expectShape(op, 'out', out, [d.B, d.T, d.H, d.D], ['f32']);
  if (rowsPath(d)) {
    rec.dispatch({
      label: `attention forward ${out.label}`,
      pipeline: { shaders: rowsShaders(d, 'attention_rows'), entry: 'attention_rows_forward', constants: { HD: d.D } },
      uniforms: params(d, past, scale),
      bindings: [q, k, v, keyMask, stats, out],
      workgroups: [Math.ceil((d.B * d.T * d.H) / ROWS_PER_WORKGROUP)],
    });
    return;
  }
  rec.dispatch({
    label: `attention forward ${out.label}`,
    pipeline: { shaders: [...SHADERS, 'attention_kv_tile', 'attention'], entry: 'attention_forward', constants: tileConstants(d, 'forward') },
    uniforms: params(d, past, scale),
    bindings: [q, k, v, keyMask, stats, out],
    workgroups: [d.B * d.H * Math.ceil(d.T / tileRows(d, 'forward'))],
  });
}

export interface AttentionSaved {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  keyMask: Tensor;
  /** The forward's output. */
  out: Tensor;
  /** The forward's stats (its second half is overwritten here). */
  stats: Tensor;
}

export interface AttentionGrads {
  dQ: Tensor;
  dK: Tensor;
  dV: Tensor;
}

/** dQ [B, T, H, D], dK, dV [B, S, KV, D] from dOut [B, T, H, D], all written with =. Two dispatches. */
export function attentionBackward(rec: Recorder, saved: AttentionSaved, dOut: Tensor, grads: AttentionGrads, d: AttentionDims): void {
  const op = 'attention backward';
  const { past, scale } = checkDims(op, d);
  const { q, k, v, keyMask, out, stats } = saved;
  checkInputs(op, d, q, k, v, keyMask, stats);
  expectShape(op, 'out', out, [d.B, d.T, d.H, d.D], ['f32']);
  expectShape(op, 'dOut', dOut, [d.B, d.T, d.H, d.D], ['f32']);
  expectShape(op, 'dQ', grads.dQ, [d.B, d.T, d.H, d.D], ['f32']);
  expectShape(op, 'dK', grads.dK, [d.B, d.S, d.KV, d.D], ['f32']);
  expectShape(op, 'dV', grads.dV, [d.B, d.S, d.KV, d.D], ['f32']);
  const u = params(d, past, scale);
  if (rowsPath(d)) {
    rec.dispatch({
      label: `attention backward dQ ${grads.dQ.label}`,
      pipeline: { shaders: rowsShaders(d, 'attention_rows_backward_q'), entry: 'attention_rows_backward_q', constants: { HD: d.D } },
      uniforms: u,
      bindings: [q, k, v, keyMask, stats, dOut, out, grads.dQ],
      workgroups: [Math.ceil((d.B * d.T * d.H) / ROWS_PER_WORKGROUP)],
    });
    rec.dispatch({
      label: `attention backward dK dV ${grads.dK.label}`,
      pipeline: { shaders: rowsShaders(d, 'attention_rows_backward_kv'), entry: 'attention_rows_backward_kv', constants: { HD: d.D } },
      uniforms: u,
      bindings: [q, k, v, keyMask, stats, dOut, grads.dK, grads.dV],
      workgroups: [Math.ceil((d.B * d.S * d.KV) / ROWS_PER_WORKGROUP)],
    });
    return;
  }
  rec.dispatch({
    label: `attention backward dQ ${grads.dQ.label}`,
    pipeline: { shaders: [...SHADERS, 'attention_kv_tile', 'attention_backward_q'], entry: 'attention_backward_q', constants: tileConstants(d, 'backward_q') },
    uniforms: u,
    bindings: [q, k, v, keyMask, stats, out, dOut, grads.dQ],
    workgroups: [d.B * d.H * Math.ceil(d.T / tileRows(d, 'backward_q'))],
  });
  rec.dispatch({
    label: `attention backward dK dV ${grads.dK.label}`,
    pipeline: { shaders: [...SHADERS, 'attention_backward_kv'], entry: 'attention_backward_kv', constants: tileConstants(d, 'backward_kv') },
    uniforms: u,
    bindings: [q, k, v, keyMask, stats, dOut, grads.dK, grads.dV],
    workgroups: [d.B * d.KV * Math.ceil(d.S / tileRows(d, 'backward_kv'))],
  });
}
