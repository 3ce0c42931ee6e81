/**
 * Graph pieces shared by the decoder graphs: linear layers, norms, the attention mask, multi-head
 * attention over a KV cache with GQA, and the graph's standard inputs and outputs — the layout
 * Optimum exports and transformers.js runs for decoder-only LMs:
 *
 *   inputs   input_ids int64 [B, S], attention_mask int64 [B, P+S], position_ids int64 [B, S],
 *            past_key_values.N.key / .value float32 [B, KV, P, D]
 *   outputs  logits float32 [B, S, V], present.N.key / .value float32 [B, KV, P+S, D]
 *
 * S: new tokens, P: cached tokens, T = P + S. Query i of the step sits at cache index P + i.
 */
import type { ModelConfig } from '../model/config.ts';
import { int, ints, type GraphBuilder } from './builder.ts';
import { transpose, type WeightReader } from './merged.ts';
import { DataType } from './proto.ts';

/** The most negative float32, the additive mask value Hugging Face uses. */
const MASK_MIN = -3.4028234663852886e38;

export interface Ctx {
  g: GraphBuilder;
  cfg: ModelConfig;
  w: WeightReader;
}

export interface DecoderInputs {
  inputIds: string;
  attentionMask: string;
  positionIds: string;
}

export function decoderInputs(g: GraphBuilder): DecoderInputs {
  return {
    inputIds: g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
    attentionMask: g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']),
    positionIds: g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']),
  };
}

/** The past key and value inputs of every layer, in order. */
export function pastInputs(ctx: Ctx): { key: string; value: string }[] {
  const { kvHeads: KV, headDim: D, layers } = ctx.cfg;
  const dims = ['batch_size', KV, 'past_sequence_length', D];
  return Array.from({ length: layers }, (_, l) => ({
    key: ctx.g.input(`past_key_values.${l}.key`, DataType.FLOAT, dims),
    value: ctx.g.input(`past_key_values.${l}.value`, DataType.FLOAT, dims),
  }));
}

/** y [B, S, out] = x [B, S, in] · Wᵀ (+ b); W is the HF [out, in] weight `${module}.weight`. */
export function linear(ctx: Ctx, x: string, module: string, out: number, inp: number, bias: boolean): string {
  const wt = ctx.g.weight(`${module}.weight`, transpose(ctx.w(`${module}.weight`), out, inp), [inp, out]);
  const y = ctx.g.op('MatMul', [x, wt]);
  return bias ? ctx.g.op('Add', [y, ctx.g.weight(`${module}.bias`, ctx.w(`${module}.bias`), [out])]) : y;
}

/** RMSNorm: x / √(mean(x²) + eps) · g, over the last axis. */
export function rmsNorm(ctx: Ctx, x: string, name: string): string {
  const { g, cfg } = ctx;
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: ints([-1]), keepdims: int(1) });
  const inv = g.op('Div', [g.f32([1], []), g.op('Sqrt', [g.op('Add', [ms, g.f32([cfg.normEps], [])])])]);
  return g.op('Mul', [g.op('Mul', [x, inv]), g.weight(`${name}.weight`, ctx.w(`${name}.weight`), [cfg.hidden])]);
}

/** LayerNorm over the last axis (LayerNormalization, opset 17). */
export function layerNorm(ctx: Ctx, x: string, name: string): string {
  const { g, cfg } = ctx;
  const gamma = g.weight(`${name}.weight`, ctx.w(`${name}.weight`), [cfg.hidden]);
  const beta = g.weight(`${name}.bias`, ctx.w(`${name}.bias`), [cfg.hidden]);
  return g.op('LayerNormalization', [x, gamma, beta], { axis: int(-1), epsilon: { kind: 'float', v: cfg.normEps } });
}

/** [B, S, N·D] → [B, N, S, D]. */
export function splitHeads(g: GraphBuilder, x: string, n: number, d: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, n, d])])], { perm: ints([0, 2, 1, 3]) });
}

/** A scalar int64 from a one-element 1-D tensor. */
const scalar = (g: GraphBuilder, x: string) => g.op('Reshape', [x, g.i64([], [0])]);

/**
 * The additive attention bias [B, 1, S, T]: 0 where query i (cache index P + i) may see key j —
 * j ≤ P + i, attention_mask[b, j] = 1 and, with a sliding window W, P + i − j < W — else the most
 * negative float. Padding queries see nothing real; their outputs are never read.
 */
export function attentionBias(ctx: Ctx, inp: DecoderInputs): string {
  const { g, cfg } = ctx;
  const S = g.op('Shape', [inp.inputIds], { start: int(1), end: int(2) });
  const T = g.op('Shape', [inp.attentionMask], { start: int(1), end: int(2) });
  const P = g.op('Sub', [T, S]);
  const one = scalar(g, g.i64([1]));
  const qpos = g.op('Range', [scalar(g, P), scalar(g, T), one]);
  const kpos = g.op('Range', [scalar(g, g.i64([0])), scalar(g, T), one]);
  const qcol = g.op('Unsqueeze', [qpos, g.i64([1])]); // [S, 1]
  const krow = g.op('Unsqueeze', [kpos, g.i64([0])]); // [1, T]
  let visible = g.op('LessOrEqual', [krow, qcol]); // [S, T]
  if (cfg.slidingWindow !== null) {
    visible = g.op('And', [visible, g.op('Less', [g.op('Sub', [qcol, krow]), g.i64([cfg.slidingWindow], [])])]);
  }
  const real = g.op('Unsqueeze', [g.op('Cast', [inp.attentionMask], { to: int(DataType.BOOL) }), g.i64([1, 2])]); // [B, 1, 1, T]
  const allowed = g.op('And', [g.op('Unsqueeze', [visible, g.i64([0, 1])]), real]);
  return g.op('Where', [allowed, g.f32([0], []), g.f32([MASK_MIN], [])], {}, g.fresh('/attention_bias'));
}

/**
 * Attention of one layer. q [B, H, S, D] (already rotated), k, v [B, KV, S, D] for the new tokens;
 * appends them to the cache (declaring present.l.key / .value) and returns [B, S, H·D].
 * GQA without copies: query head h uses KV head h / (H / KV), so q is viewed as
 * [B, KV, (H / KV)·S, D] and multiplied with its KV head directly.
 */
export function cachedAttention(ctx: Ctx, l: number, q: string, k: string, v: string, past: { key: string; value: string }, bias: string): string {
  const { g, cfg } = ctx;
  const { heads: H, kvHeads: KV, headDim: D } = cfg;
  const presentDims = ['batch_size', KV, 'total_sequence_length', D];
  const keys = g.op('Concat', [past.key, k], { axis: int(2) });
  const values = g.op('Concat', [past.value, v], { axis: int(2) });
  g.output(`present.${l}.key`, keys, DataType.FLOAT, presentDims);
  g.output(`present.${l}.value`, values, DataType.FLOAT, presentDims);
  const qScaled = g.op('Mul', [q, g.f32([1 / Math.sqrt(D)], [])]);
  const qGrouped = g.op('Reshape', [qScaled, g.i64([0, KV, -1, D])]);
  const kT = g.op('Transpose', [`present.${l}.key`], { perm: ints([0, 1, 3, 2]) });
  const scores = g.op('Reshape', [g.op('MatMul', [qGrouped, kT]), g.i64([0, H, -1, 0])]); // [B, H, S, T]
  const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: int(-1) });
  const ctxGrouped = g.op('MatMul', [g.op('Reshape', [probs, g.i64([0, KV, -1, 0])]), `present.${l}.value`]);
  const heads = g.op('Transpose', [g.op('Reshape', [ctxGrouped, g.i64([0, H, -1, D])])], { perm: ints([0, 2, 1, 3]) });
  return g.op('Reshape', [heads, g.i64([0, 0, H * D])]);
}

/**
 * The logits output from the final hidden states [B, S, C]: the LM head, or the embedding table
 * `embed` [V, C] itself through a Transpose when the embeddings are tied (stored once).
 */
export function logitsOutput(ctx: Ctx, x: string, embed: string): void {
  const { g, cfg } = ctx;
  const { vocabSize: V, hidden: C } = cfg;
  const headT = cfg.tieWordEmbeddings
    ? g.op('Transpose', [embed], { perm: ints([1, 0]) })
    : g.weight('lm_head.weight', transpose(ctx.w('lm_head.weight'), V, C), [C, V]);
  g.output('logits', g.op('MatMul', [x, headT]), DataType.FLOAT, ['batch_size', 'sequence_length', V]);
}
