/**
 * The whole network for one recorded step, rows N = B·T:
 *   x = embed(ids) (× √C for Gemma; + wpe(positions) for GPT-2);  x = block_l(x) for every layer;
 *   logits [N, V] = final_norm(x)·W_headᵀ;  tokenLoss [N] = cross-entropy(logits, targets)
 * and, for training, backward in reverse: dlogits (in place of the logits, scaled by lossScale),
 * through lm_head and the final norm into grad.dResid, then every block.
 */
import type { Tensor } from '../gpu/tensor.ts';
import { crossEntropyBackward, crossEntropyForward, crossEntropySum } from '../kernels/cross-entropy.ts';
import { embeddingLookup, positionEmbeddingAdd } from '../kernels/embedding.ts';
import { linearBackwardInput, linearForward } from '../kernels/matmul.ts';
import { accumulate } from '../kernels/residual.ts';
import { blockBackward } from './backward-block.ts';
import { blockForward } from './forward-block.ts';
import { normBackward, normForward, type NormStats } from './forward-norm.ts';
import { finalNormName, type StepContext } from './step-context.ts';

export interface ForwardOptions {
  /** Cross-entropy on ctx.targets into tokenLoss, its sum added (+=) into lossSum. */
  loss: { lossSum: Tensor } | null;
  /** Logits of the last row only ([1, V], generation with B = 1). */
  lastOnly: boolean;
}

function finalStats(ctx: StepContext): NormStats {
  const N = ctx.B * ctx.T;
  return { rstd: ctx.acts.get('final.rstd', [N]), mean: ctx.config.norm === 'layernorm' ? ctx.acts.get('final.mean', [N]) : null };
}

/** Records the forward; returns the logits tensor ([N, V], or [1, V] with lastOnly). */
export function recordForward(ctx: StepContext, o: ForwardOptions): Tensor {
  const { rec, config, weights, acts, B, T } = ctx;
  const N = B * T;
  const { hidden: C, vocabSize: V, layers: L } = config;
  const x0 = acts.resid(0, [N, C]);
  if (config.arch === 'gpt2') {
    embeddingLookup(rec, ctx.ids, weights.get('transformer.wte.weight'), x0);
    positionEmbeddingAdd(rec, ctx.positions, weights.get('transformer.wpe.weight'), x0);
  } else {
    embeddingLookup(rec, ctx.ids, weights.get('model.embed_tokens.weight'), x0, config.embedScale ?? 1);
  }
  for (let l = 0; l < L; l++) blockForward(ctx, l);
  const xf = acts.get('final.x', [N, C]);
  normForward(ctx, finalNormName(config), acts.resid(L, [N, C]), xf, finalStats(ctx));
  const head = weights.get('lm_head.weight');
  if (o.lastOnly) {
    // The last row of the one sequence, copied out (views need 256-byte aligned offsets).
    const last = acts.layer(0, 'proj', [1, C]);
    rec.copy(xf, last, C * 4, (N - 1) * C * 4, 0);
    const logits = acts.get('logits', [1, V]);
    linearForward(rec, { x: last, w: head, y: logits });
    return logits;
  }
  const logits = acts.get('logits', [N, V]);
  linearForward(rec, { x: xf, w: head, y: logits });
  if (o.loss) {
    const tokenLoss = acts.get('tokenLoss', [N]);
    crossEntropyForward(rec, logits, ctx.targets, tokenLoss, acts.get('lse', [N]));
    const part = acts.get('lossPart', [1]);
    crossEntropySum(rec, tokenLoss, part);
    accumulate(rec, part, o.loss.lossSum);
  }
  return logits;
}

/** Records the backward of the last recordForward (with loss); lossScale = 1 / counted tokens. */
export function recordBackward(ctx: StepContext, lossScale: number): void {
  const { rec, config, weights, acts, B, T } = ctx;
  const N = B * T;
  const { hidden: C, vocabSize: V, layers: L } = config;
  const logits = acts.get('logits', [N, V]);
  crossEntropyBackward(rec, logits, ctx.targets, acts.get('lse', [N]), logits, lossScale);
  const dn = acts.get('grad.dn', [N, C]);
  linearBackwardInput(rec, { dy: logits, w: weights.get('lm_head.weight'), dx: dn });
  normBackward(ctx, finalNormName(config), dn, acts.resid(L, [N, C]), finalStats(ctx), acts.get('grad.dResid', [N, C]), false);
  for (let l = L - 1; l >= 0; l--) blockBackward(ctx, l);
}
