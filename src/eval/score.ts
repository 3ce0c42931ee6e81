/**
 * Scoring on the GPU network, forward only: the mean loss of a set of examples (validation loss),
 * the masked loss of each example, and the label predictions of `rule.ts` (each row scored once
 * per label of the label set, the likeliest whole answer wins).
 *
 * Per-token losses come back through one scratch buffer per chunk of batches, so a submission
 * records at most SCORE_CHUNK batches and nothing waits on the GPU between them.
 */
import { makeBatches, type Batch } from '../data/batch.ts';
import type { Row } from '../data/dataset.ts';
import { encodeExample, type EncodedExample } from '../data/prompt.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Network } from '../model/network.ts';
import { pickLabel } from './rule.ts';

/** Batches recorded per submission while scoring (bounds the per-token loss scratch buffer). */
const SCORE_CHUNK = 8;

export function evalBatches(examples: EncodedExample[], batchSize: number, padId: number): Batch[] {
  return examples.length === 0 ? [] : makeBatches(examples, batchSize, { shuffle: false, seed: 0, padId });
}

/** Mean cross-entropy over every counted token of the batches (NaN when there are none): HF's eval loss. */
export async function meanLoss(net: Network, batches: Batch[]): Promise<number> {
  const { gpu } = net;
  const tokens = batches.reduce((n, b) => n + b.tokenCount, 0);
  if (tokens === 0) return Number.NaN;
  const rec = gpu.recorder('eval.loss');
  net.recordZeroLoss(rec);
  for (const b of batches) net.recordStep(rec, b, { backward: false, lossScale: 1 / tokens, dropoutSeed: 0 });
  rec.submit();
  const sum = (await gpu.pool.readF32(net.lossSum))[0];
  rec.destroy();
  return sum / tokens;
}

export interface RowLoss {
  /** Σ −log p(input_ids[i] | input_ids[<i]) over the counted tokens. */
  sum: number;
  count: number;
  /** sum / count, or null when the row has no counted token. */
  loss: number | null;
}

/** The masked loss of each example, in order. */
export async function rowLosses(net: Network, examples: EncodedExample[], batchSize: number, padId: number): Promise<RowLoss[]> {
  const { gpu } = net;
  const out: RowLoss[] = new Array(examples.length);
  const batches = evalBatches(examples, batchSize, padId);
  let scratch: Tensor | null = null;
  const rec = gpu.recorder('eval.score');
  try {
    for (let start = 0; start < batches.length; start += SCORE_CHUNK) {
      const chunk = batches.slice(start, start + SCORE_CHUNK);
      const floats = chunk.reduce((n, b) => n + b.B * b.T, 0);
      if (!scratch || scratch.shape[0] < floats) {
        if (scratch) gpu.pool.releaseTensor(scratch);
        scratch = gpu.pool.tensor('eval.token_loss', [floats]);
      }
      let offset = 0;
      for (const b of chunk) {
        net.recordStep(rec, b, { backward: false, lossScale: 1 / Math.max(1, b.tokenCount), dropoutSeed: 0 });
        rec.copy(net.tokenLoss, scratch, b.B * b.T * 4, 0, offset * 4);
        offset += b.B * b.T;
      }
      rec.submit();
      const losses = await gpu.pool.readF32(scratch);
      offset = 0;
      for (const b of chunk) {
        b.exampleIndices.forEach((ex, row) => {
          let sum = 0;
          let count = 0;
          for (let t = 0; t < b.T; t++) {
            if (b.targets[row * b.T + t] < 0) continue;
            sum += losses[offset + row * b.T + t];
            count++;
          }
          out[ex] = { sum, count, loss: count > 0 ? sum / count : null };
        });
        offset += b.B * b.T;
      }
    }
  } finally {
    if (scratch) gpu.pool.releaseTensor(scratch);
    rec.destroy();
  }
  return out;
}

export interface ScoreOptions {
  /** T: the same sequence length the run trained with (longer rows are cut the same way). */
  seqLen: number;
  useChatTemplate: boolean;
  batchSize: number;
  padId: number;
}

/** Every row encoded once per label (row-major: row r, label k at r·K + k). */
export function labelCandidates(tokenizer: Tokenizer, rows: readonly Row[], labels: readonly string[], o: Pick<ScoreOptions, 'seqLen' | 'useChatTemplate'>): EncodedExample[] {
  const out: EncodedExample[] = [];
  for (const r of rows) for (const label of labels) out.push(encodeExample(tokenizer, { ...r, output: label }, o));
  return out;
}

export interface LabelPredictions {
  /** The predicted label of each row. */
  predicted: string[];
  /** Summed answer loss of row r with label k at r·K + k. */
  sums: Float64Array;
}

/** The label predicted for each row by the rule of `rule.ts`, with the scores behind it. */
export async function predictLabels(net: Network, tokenizer: Tokenizer, rows: readonly Row[], labels: readonly string[], o: ScoreOptions): Promise<LabelPredictions> {
  const K = labels.length;
  const losses = await rowLosses(net, labelCandidates(tokenizer, rows, labels, o), o.batchSize, o.padId);
  const sums = Float64Array.from(losses, (l) => (l.count > 0 ? l.sum : Number.NaN));
  const predicted = rows.map((_, r) => labels[pickLabel(sums, r * K, K)]);
  return { predicted, sums };
}
