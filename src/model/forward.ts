/**
 * The whole network for one recorded step, rows N = B·T:
 *   x = embed(ids) (× √C for Gemma; + wpe(positions) for GPT-2);  x = block_l(x) for every layer;
 *   then the LM head over chunks of headRows rows (plan.ts), so logits [N, V] never exist at once:
 *   xf = final_norm(x rows);  logits [rows, V] = xf·W_headᵀ;  tokenLoss rows = cross-entropy(logits, targets)
 *   and, when training, in the same chunk: dlogits (in place, scaled by lossScale) → dxf = dlogits·W_head
 *   → final norm backward into grad.dResid rows. recordBackward then runs the blocks in reverse.
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
  /** With loss: also the head's backward, dlogits scaled by this (1 / counted tokens), into grad.dResid. */
  backwardScale?: number;
  /** Logits of the last row only ([1, V], generation with B = 1). */
  lastOnly: boolean;
}

/** Records the embedding and every block: the residual stream after the last layer, [N, C]. */
export function recordBlocks(ctx: StepContext): Tensor {
  const { rec, config, weights, acts, B, T } = ctx;
  const N = B * T;
  const { hidden: C, layers: L } = config;
  const x0 = acts.resid(0, [N, C]);
  if (config.arch === 'gpt2') {
    embeddingLookup(rec, ctx.ids, weights.get('transformer.wte.weight'), x0);
    positionEmbeddingAdd(rec, ctx.positions, weights.get('transformer.wpe.weight'), x0);
  } else {
    embeddingLookup(rec, ctx.ids, weights.get('model.embed_tokens.weight'), x0, config.embedScale ?? 1);
  }
  for (let l = 0; l < L; l++) blockForward(ctx, l);
  return acts.resid(L, [N, C]);
}

export interface HeadChunk {
  /** First row and row count of the chunk. */
  r0: number;
  rows: number;
}

/** The head's chunks of the current batch: headRows rows each, the last one shorter. */
export function headChunks(ctx: StepContext): HeadChunk[] {
  const N = ctx.B * ctx.T;
  const R = ctx.acts.plan.headRows;
  const out: HeadChunk[] = [];
  for (let r0 = 0; r0 < N; r0 += R) out.push({ r0, rows: Math.min(R, N - r0) });
  return out;
}

/**
 * Records the head on rows [r0, r0 + rows) of the final stream: logits [rows, V] (returned; the
 * shared chunk buffer), and with loss their token losses (and with backwardScale the head's
 * backward into grad.dResid's rows).
 */
export function recordHeadChunk(ctx: StepContext, chunk: HeadChunk, o: { loss: boolean; backwardScale?: number }): Tensor {
  const { rec, config, weights, acts, B, T } = ctx;
  const { hidden: C, vocabSize: V, layers: L } = config;
  const { r0, rows } = chunk;
  const x = acts.rows(acts.plan.training ? acts.plan.residKeys[L] : `resid${L % 2}`, r0, rows, C);
  if (r0 + rows > B * T) throw new Error(`head chunk rows ${r0}…${r0 + rows} run past the batch's ${B * T} rows.`);
  const xf = acts.get('head.x', [rows, C]);
  const stats: NormStats = { rstd: acts.get('head.rstd', [rows]), mean: config.norm === 'layernorm' ? acts.get('head.mean', [rows]) : null };
  const head = weights.get('lm_head.weight');
  normForward(ctx, finalNormName(config), x, xf, stats);
  const logits = acts.get('logits', [rows, V]);
  linearForward(rec, { x: xf, w: head, y: logits });
  if (!o.loss) return logits;
  const targets = acts.rows('targets', r0, rows, 1, 'i32');
  const lse = acts.get('head.lse', [rows]);
  crossEntropyForward(rec, logits, targets, acts.rows('tokenLoss', r0, rows, 1), lse);
  if (o.backwardScale === undefined) return logits;
  crossEntropyBackward(rec, logits, targets, lse, logits, o.backwardScale);
  const dxf = acts.get('head.dx', [rows, C]);
  linearBackwardInput(rec, { dy: logits, w: head, dx: dxf });
  normBackward(ctx, finalNormName(config), dxf, x, stats, acts.rows('grad.dResid', r0, rows, C), false);
  return logits;
}

/** Records the forward (and the head's backward with backwardScale); returns the last chunk's logits ([1, V] with lastOnly). */
export function recordForward(ctx: StepContext, o: ForwardOptions): Tensor {
  const { rec, config, weights, acts, B, T } = ctx;
  const N = B * T;
  const { hidden: C, vocabSize: V } = config;
  const xL = recordBlocks(ctx);
  if (o.lastOnly) {
    // The last row of the one sequence, copied out (views need 256-byte aligned offsets).
    const last = acts.get('head.x', [1, C]);
    const stats: NormStats = { rstd: acts.get('head.rstd', [1]), mean: config.norm === 'layernorm' ? acts.get('head.mean', [1]) : null };
    const row = acts.layer(0, 'proj', [1, C]);
    rec.copy(xL, row, C * 4, (N - 1) * C * 4, 0);
    normForward(ctx, finalNormName(config), row, last, stats);
    const logits = acts.get('logits', [1, V]);
    linearForward(rec, { x: last, w: weights.get('lm_head.weight'), y: logits });
    return logits;
  }
  let logits: Tensor | null = null;
  for (const chunk of headChunks(ctx)) logits = recordHeadChunk(ctx, chunk, { loss: o.loss !== null, backwardScale: o.backwardScale });
  if (o.loss) {
    const part = acts.get('lossPart', [1]);
    crossEntropySum(rec, acts.get('tokenLoss', [N]), part);
    accumulate(rec, part, o.loss.lossSum);
  }
  return logits!;
}

/** Records the blocks' backward after a recordForward with backwardScale (grad.dResid holds the stream's gradient). */
export function recordBackward(ctx: StepContext): void {
  for (let l = ctx.config.layers - 1; l >= 0; l--) blockBackward(ctx, l);
}
