/**
 * Validation on the GPU network, forward only: the mean answer-token loss of a set of examples,
 * and, when outputs are class labels, accuracy by likelihood: each row is scored once per
 * candidate label (the row with that label as its answer) and the prediction is the label with
 * the lowest mean answer-token loss (answer tokens include the end-of-answer token).
 */
import { makeBatches, type Batch } from '../data/batch.ts';
import type { Row } from '../data/dataset.ts';
import { encodeExample, type EncodedExample } from '../data/prompt.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Network } from '../model/network.ts';

/** Batches recorded per submission while scoring (bounds the per-token loss scratch buffer). */
const SCORE_CHUNK = 8;

export function evalBatches(examples: EncodedExample[], batchSize: number, padId: number): Batch[] {
  return examples.length === 0 ? [] : makeBatches(examples, batchSize, { shuffle: false, seed: 0, padId });
}

/** Mean cross-entropy over every counted token of the batches (NaN when there are none). */
export async function meanLoss(gpu: Gpu, net: Network, batches: Batch[]): Promise<number> {
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

/** Mean answer-token loss of each example (in order), from the network's per-token losses. */
export async function exampleLosses(gpu: Gpu, net: Network, examples: EncodedExample[], batchSize: number, padId: number): Promise<Float64Array> {
  const out = new Float64Array(examples.length);
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
          out[ex] = count > 0 ? sum / count : Number.NaN;
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

export interface LabelScores {
  accuracy: number;
  /** Predicted label per row. */
  predictions: string[];
}

/** Accuracy by label likelihood over `rows` (their `output` is the true label). */
export async function labelAccuracy(
  gpu: Gpu,
  net: Network,
  tokenizer: Tokenizer,
  rows: Row[],
  labels: string[],
  o: { seqLen: number; useChatTemplate: boolean; batchSize: number; padId: number },
): Promise<LabelScores> {
  if (rows.length === 0) return { accuracy: Number.NaN, predictions: [] };
  const candidates: EncodedExample[] = [];
  for (const r of rows) {
    for (const label of labels) candidates.push(encodeExample(tokenizer, { ...r, output: label }, { seqLen: o.seqLen, useChatTemplate: o.useChatTemplate }));
  }
  const losses = await exampleLosses(gpu, net, candidates, o.batchSize, o.padId);
  let correct = 0;
  const predictions = rows.map((r, i) => {
    let best = 0;
    for (let k = 1; k < labels.length; k++) if (losses[i * labels.length + k] < losses[i * labels.length + best]) best = k;
    if (labels[best] === r.output) correct++;
    return labels[best];
  });
  return { accuracy: correct / rows.length, predictions };
}
