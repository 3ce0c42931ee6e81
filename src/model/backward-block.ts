/**
 * One transformer block, backward, in reverse order of blockForward. On entry grad.dResid holds
 * the gradient of the block's output; on exit, of its input. With recomputation (plan.ts) the
 * block's forward runs again first, from the nearest kept block input. Per the gradient convention
 * (src/kernels/README.md) activation gradients are written with =, the residual stream's with +=
 * (each norm's input gradient is added to the stream's), LoRA dA/dB with +=; frozen weights get none.
 * Gemma 3's output norms and the q/k norms (Qwen3, Gemma 3) are undone in place in the chain:
 * their input gradients go to grad.dPost and grad.dqRaw / grad.dkRaw.
 */
import { attentionBackward } from '../kernels/attention.ts';
import { geluBackward } from '../kernels/gelu.ts';
import { ropeBackward } from '../kernels/rope.ts';
import { swigluBackwardInPlace } from '../kernels/swiglu.ts';
import { attentionDims, blockForward, blockTensors, gateActivation, layerInvFreq } from './forward-block.ts';
import { linearSiteBackward } from './forward-linear.ts';
import { headNormBackward, normBackward } from './forward-norm.ts';
import { blockPaths } from './plan.ts';
import { normNames, outputNormNames, reshape, type StepContext } from './step-context.ts';

/** Recomputes the forward of blocks c…l from the kept input of block c (c = the multiple of k below l). */
function recomputeForward(ctx: StepContext, l: number): void {
  const k = ctx.acts.plan.recompute;
  if (k === 0) return;
  for (let j = Math.floor(l / k) * k; j < l; j++) blockForward(ctx, j);
  blockForward(ctx, l, { output: false });
}

export function blockBackward(ctx: StepContext, l: number): void {
  recomputeForward(ctx, l);
  const { rec, config, acts, B, T } = ctx;
  const N = B * T;
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I } = config;
  const t = blockTensors(ctx, l);
  const paths = blockPaths(config);
  const [norm1, norm2] = normNames(config, l);
  const g = (name: string, cols: number) => acts.grad(l, name, [N, cols]);
  const dResid = g('dResid', C);
  const dn = g('dn', C);
  const dh = ctx.rank !== null ? acts.get('grad.dh', [N, ctx.rank]) : null;

  const on = t.outputNorms;
  const [postAttn, postMlp] = outputNormNames(l);
  const dPost = on ? g('dPost', C) : null;

  // MLP: out = mid + down(act) (Gemma 3: mid + post_feedforward_layernorm(down(act))).
  const dAct = g('dAct', I);
  if (on) normBackward(ctx, postMlp, dResid, on.mlpOut, on.statsMlp, dPost!, false);
  linearSiteBackward(rec, ctx.site(l, paths.mlpOut), t.act, dPost ?? dResid, dAct, dh, false);
  if (config.arch === 'gpt2') {
    const dFc = g('dFc', I);
    geluBackward(rec, dAct, t.fc, dFc);
    linearSiteBackward(rec, ctx.site(l, paths.mlpIn[0]), t.n2, dFc, dn, dh, false);
  } else {
    // gate and up become their gradients (they are dead after this).
    swigluBackwardInPlace(rec, dAct, t.fc, t.up!, gateActivation(ctx));
    linearSiteBackward(rec, ctx.site(l, paths.mlpIn[0]), t.n2, t.fc, dn, dh, false);
    linearSiteBackward(rec, ctx.site(l, paths.mlpIn[1]), t.n2, t.up!, dn, dh, true);
  }
  normBackward(ctx, norm2, dn, t.mid, t.stats2, dResid, true);

  // Attention: mid = x + o_proj(att) (Gemma 3: x + post_attention_layernorm(o_proj(att))).
  const dAtt = g('dAtt', H * D);
  if (on) normBackward(ctx, postAttn, dResid, on.attnOut, on.statsAttn, dPost!, false);
  linearSiteBackward(rec, ctx.site(l, paths.o), t.att, dPost ?? dResid, dAtt, dh, false);
  const dq = g('dq', H * D);
  const dk = g('dk', KV * D);
  const dv = g('dv', KV * D);
  const four = (x: typeof dq, heads: number) => reshape(x, [B, T, heads, D]);
  attentionBackward(
    rec,
    { q: four(t.q, H), k: four(t.k, KV), v: four(t.v, KV), keyMask: ctx.keyMask, out: four(t.att, H), stats: t.attStats },
    four(dAtt, H),
    { dQ: four(dq, H), dK: four(dk, KV), dV: four(dv, KV) },
    attentionDims(ctx, l),
  );
  const invFreq = layerInvFreq(ctx, l);
  if (invFreq) {
    ropeBackward(rec, dq, ctx.positions, { heads: H, headDim: D, invFreq });
    ropeBackward(rec, dk, ctx.positions, { heads: KV, headDim: D, invFreq });
  }
  let [dqIn, dkIn] = [dq, dk];
  if (t.qkNorm) {
    dqIn = g('dqRaw', H * D);
    dkIn = g('dkRaw', KV * D);
    headNormBackward(ctx, `model.layers.${l}.self_attn.q_norm`, dq, t.qkNorm.qRaw, t.qkNorm.rstdQ, dqIn, H);
    headNormBackward(ctx, `model.layers.${l}.self_attn.k_norm`, dk, t.qkNorm.kRaw, t.qkNorm.rstdK, dkIn, KV);
  }
  [dqIn, dkIn, dv].forEach((dy, i) => linearSiteBackward(rec, ctx.site(l, paths.qkv[i]), t.n1, dy, dn, dh, i > 0));
  normBackward(ctx, norm1, dn, t.x, t.stats1, dResid, true);
}
