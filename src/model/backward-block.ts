/**
 * One transformer block, backward, in reverse order of blockForward. On entry grad.dResid holds
 * the gradient of the block's output; on exit, of its input. With recomputation (plan.ts) the
 * block's forward runs again first, from the nearest kept block input. Per the gradient convention
 * (src/kernels/README.md) activation gradients are written with =, the residual stream's with +=
 * (each norm's input gradient is added to the stream's), LoRA dA/dB with +=; frozen weights get none.
 */
import { attentionBackward } from '../kernels/attention.ts';
import { geluBackward } from '../kernels/gelu.ts';
import { ropeBackward } from '../kernels/rope.ts';
import { swigluBackwardInPlace } from '../kernels/swiglu.ts';
import { attentionDims, blockForward, blockTensors } from './forward-block.ts';
import { linearSiteBackward } from './forward-linear.ts';
import { normBackward } from './forward-norm.ts';
import { blockPaths } from './plan.ts';
import { normNames, reshape, type StepContext } from './step-context.ts';

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

  // MLP: out = mid + down(act).
  const dAct = g('dAct', I);
  linearSiteBackward(rec, ctx.site(l, paths.mlpOut), t.act, [dResid], dAct, dh, false);
  if (config.arch === 'gpt2') {
    const dFc = g('dFc', I);
    geluBackward(rec, dAct, t.fc, dFc);
    linearSiteBackward(rec, ctx.site(l, paths.mlpIn[0]), t.n2, [dFc], dn, dh, false);
  } else {
    // gate and up become their gradients (they are dead after this).
    swigluBackwardInPlace(rec, dAct, t.fc, t.up!);
    linearSiteBackward(rec, ctx.site(l, paths.mlpIn[0]), t.n2, [t.fc], dn, dh, false);
    linearSiteBackward(rec, ctx.site(l, paths.mlpIn[1]), t.n2, [t.up!], dn, dh, true);
  }
  normBackward(ctx, norm2, dn, t.mid, t.stats2, dResid, true);

  // Attention: mid = x + o_proj(att).
  const dAtt = g('dAtt', H * D);
  linearSiteBackward(rec, ctx.site(l, paths.o), t.att, [dResid], dAtt, dh, false);
  const dq = g('dq', H * D);
  const dk = g('dk', KV * D);
  const dv = g('dv', KV * D);
  const four = (x: typeof dq, heads: number) => reshape(x, [B, T, heads, D]);
  attentionBackward(
    rec,
    { q: four(t.q, H), k: four(t.k, KV), v: four(t.v, KV), keyMask: ctx.keyMask, out: four(t.att, H), stats: t.attStats },
    four(dAtt, H),
    { dQ: four(dq, H), dK: four(dk, KV), dV: four(dv, KV) },
    attentionDims(ctx),
  );
  if (ctx.invFreq) {
    ropeBackward(rec, dq, ctx.positions, { heads: H, headDim: D, invFreq: ctx.invFreq });
    ropeBackward(rec, dk, ctx.positions, { heads: KV, headDim: D, invFreq: ctx.invFreq });
  }
  if (config.arch === 'gpt2') {
    linearSiteBackward(rec, ctx.site(l, paths.qkv[0]), t.n1, [dq, dk, dv], dn, dh, false);
  } else {
    [dq, dk, dv].forEach((dy, i) => linearSiteBackward(rec, ctx.site(l, paths.qkv[i]), t.n1, [dy], dn, dh, i > 0));
  }
  normBackward(ctx, norm1, dn, t.x, t.stats1, dResid, true);
}
