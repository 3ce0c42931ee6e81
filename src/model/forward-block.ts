/**
 * One transformer block, forward (llama family and GPT-2), rows N = B·T:
 *   n1 = norm1(x);  q, k, v = proj(n1) (GPT-2: c_attn's row blocks; q, k per-head normed when qkNorm, then RoPE)
 *   att = attention(q, k, v) (causal, the layer's sliding window, the model's score scale)
 *   mid = x + o_proj(att)            (Gemma 3: x + post_attention_layernorm(o_proj(att)))
 *   n2 = norm2(mid)
 *   llama: act = silu(gate(n2)) ⊙ up(n2) (Gemma: gelu_tanh);  gpt2: act = gelu_tanh(c_fc(n2))
 *   out = mid + down(act)            (Gemma 3: mid + post_feedforward_layernorm(down(act)))
 * The tensors a layer keeps for backward come from the plan (plan.ts); blockTensors names them.
 */
import type { Tensor } from '../gpu/tensor.ts';
import { attentionForward, attentionStatsShape, type AttentionDims } from '../kernels/attention.ts';
import { geluForward } from '../kernels/gelu.ts';
import { addForward } from '../kernels/residual.ts';
import { ropeForward } from '../kernels/rope.ts';
import { swigluForward, type GateActivation } from '../kernels/swiglu.ts';
import { layerWindow } from './config.ts';
import { linearSiteForward, linearSiteHidden } from './forward-linear.ts';
import { headNormForward, normForward, type NormStats } from './forward-norm.ts';
import { blockPaths } from './plan.ts';
import { normNames, outputNormNames, reshape, type StepContext } from './step-context.ts';

/** Qwen3 / Gemma 3: q and k before their per-head norm, and its rstd [N, heads]. */
export interface QkNormTensors {
  qRaw: Tensor;
  kRaw: Tensor;
  rstdQ: Tensor;
  rstdK: Tensor;
}

/** Gemma 3: the o_proj and down_proj outputs before their norms, and those norms' statistics. */
export interface OutputNormTensors {
  attnOut: Tensor;
  mlpOut: Tensor;
  statsAttn: NormStats;
  statsMlp: NormStats;
}

export interface BlockTensors {
  x: Tensor;
  n1: Tensor;
  stats1: NormStats;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  attStats: Tensor;
  proj: Tensor;
  mid: Tensor;
  n2: Tensor;
  stats2: NormStats;
  /** gate_proj or c_fc output (the activation's input). */
  fc: Tensor;
  /** up_proj output (llama only). */
  up: Tensor | null;
  act: Tensor;
  out: Tensor;
  qkNorm: QkNormTensors | null;
  outputNorms: OutputNormTensors | null;
}

/** The planned tensors of layer l for the current batch. */
export function blockTensors(ctx: StepContext, l: number): BlockTensors {
  const { acts, config, B, T } = ctx;
  const N = B * T;
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I } = config;
  const ln = config.norm === 'layernorm';
  const lay = (name: string, cols: number) => acts.layer(l, name, [N, cols]);
  return {
    x: acts.resid(l, [N, C]),
    n1: lay('n1', C),
    stats1: { rstd: acts.layer(l, 'rstd1', [N]), mean: ln ? acts.layer(l, 'mean1', [N]) : null },
    q: lay('q', H * D),
    k: lay('k', KV * D),
    v: lay('v', KV * D),
    att: lay('att', H * D),
    attStats: acts.layer(l, 'stats', attentionStatsShape({ B, T, S: T, H, KV, D })),
    proj: lay('proj', C),
    mid: lay('mid', C),
    n2: lay('n2', C),
    stats2: { rstd: acts.layer(l, 'rstd2', [N]), mean: ln ? acts.layer(l, 'mean2', [N]) : null },
    fc: lay('fc', I),
    up: ln ? null : lay('up', I),
    act: lay('act', I),
    out: acts.resid(l + 1, [N, C]),
    qkNorm: config.qkNorm ? { qRaw: lay('qRaw', H * D), kRaw: lay('kRaw', KV * D), rstdQ: lay('rstdQ', H), rstdK: lay('rstdK', KV) } : null,
    outputNorms: config.sandwichNorms
      ? {
          attnOut: lay('attnOut', C), mlpOut: lay('mlpOut', C),
          statsAttn: { rstd: acts.layer(l, 'rstdPostAttn', [N]), mean: null }, statsMlp: { rstd: acts.layer(l, 'rstdPostMlp', [N]), mean: null },
        }
      : null,
  };
}

/** Attention dims of layer l in this step: S = T in a batch, the cache's S in generation. */
export function attentionDims(ctx: StepContext, l: number): AttentionDims {
  const { config, B, T, cache } = ctx;
  return {
    B, T, S: cache ? cache.S : T, H: config.heads, KV: config.kvHeads, D: config.headDim, past: cache ? cache.past : 0,
    window: layerWindow(config, l) ?? 0, scale: config.attnScale,
  };
}

/** RoPE inverse frequencies of layer l: the local ones on Gemma 3's sliding layers. */
export function layerInvFreq(ctx: StepContext, l: number): Float32Array | null {
  return ctx.invFreqLocal && layerWindow(ctx.config, l) !== null ? ctx.invFreqLocal : ctx.invFreq;
}

/** The gated MLP's activation of the llama family. */
export function gateActivation(ctx: StepContext): GateActivation {
  return ctx.config.activation === 'gelu_tanh' ? 'gelu_tanh' : 'silu';
}

/**
 * Records block l's forward. `output: false` (recomputation before the block's backward) stops
 * at what backward reads: the MLP-out module's LoRA h, not its output nor the stream after it.
 */
export function blockForward(ctx: StepContext, l: number, o: { output: boolean } = { output: true }): BlockTensors {
  const { rec, config, B, T } = ctx;
  const { heads: H, kvHeads: KV, headDim: D } = config;
  const t = blockTensors(ctx, l);
  const paths = blockPaths(config);
  const [norm1, norm2] = normNames(config, l);

  normForward(ctx, norm1, t.x, t.n1, t.stats1);
  const qk = t.qkNorm;
  [qk ? qk.qRaw : t.q, qk ? qk.kRaw : t.k, t.v].forEach((y, i) => linearSiteForward(rec, ctx.site(l, paths.qkv[i]), t.n1, y));
  if (qk) {
    headNormForward(ctx, `model.layers.${l}.self_attn.q_norm`, qk.qRaw, t.q, qk.rstdQ, H);
    headNormForward(ctx, `model.layers.${l}.self_attn.k_norm`, qk.kRaw, t.k, qk.rstdK, KV);
  }
  const invFreq = layerInvFreq(ctx, l);
  if (invFreq) {
    ropeForward(rec, t.q, ctx.positions, { heads: H, headDim: D, invFreq });
    ropeForward(rec, t.k, ctx.positions, { heads: KV, headDim: D, invFreq });
  }
  const dims = attentionDims(ctx, l);
  let k = reshape(t.k, [B, T, KV, D]);
  let v = reshape(t.v, [B, T, KV, D]);
  let keyMask = ctx.keyMask;
  if (ctx.cache) {
    // Generation (B = 1): append this step's keys and values to the cache, attend over it.
    const rowBytes = KV * D * 4;
    rec.copy(t.k, ctx.cache.k[l], T * rowBytes, 0, ctx.cache.past * rowBytes);
    rec.copy(t.v, ctx.cache.v[l], T * rowBytes, 0, ctx.cache.past * rowBytes);
    k = ctx.cache.k[l];
    v = ctx.cache.v[l];
    keyMask = ctx.cache.keyMask;
  }
  const q4 = reshape(t.q, [B, T, H, D]);
  attentionForward(rec, q4, k, v, keyMask, reshape(t.att, [B, T, H, D]), t.attStats, dims);
  const on = t.outputNorms;
  const [postAttn, postMlp] = outputNormNames(l);
  linearSiteForward(rec, ctx.site(l, paths.o), t.att, on ? on.attnOut : t.proj);
  if (on) normForward(ctx, postAttn, on.attnOut, t.proj, on.statsAttn);
  addForward(rec, t.x, t.proj, t.mid);

  normForward(ctx, norm2, t.mid, t.n2, t.stats2);
  linearSiteForward(rec, ctx.site(l, paths.mlpIn[0]), t.n2, t.fc);
  if (config.arch === 'gpt2') {
    geluForward(rec, t.fc, t.act);
  } else {
    linearSiteForward(rec, ctx.site(l, paths.mlpIn[1]), t.n2, t.up!);
    swigluForward(rec, t.fc, t.up!, t.act, gateActivation(ctx));
  }
  if (!o.output && !on) {
    linearSiteHidden(rec, ctx.site(l, paths.mlpOut), t.act);
    return t;
  }
  // Gemma 3's post-MLP norm backward reads down_proj's output and the norm's rstd: recomputed too.
  linearSiteForward(rec, ctx.site(l, paths.mlpOut), t.act, on ? on.mlpOut : t.proj);
  if (on) normForward(ctx, postMlp, on.mlpOut, t.proj, on.statsMlp);
  if (!o.output) return t;
  addForward(rec, t.mid, t.proj, t.out);
  return t;
}
