import { mulberry32, shuffleInPlace } from './rng.ts';
import type { EncodedExample } from './prompt.ts';

/**
 * A padded batch of B sequences of length T (right padding; T = the longest sequence in the batch).
 *
 * Target convention (next-token prediction, shifted inside the batch so the model needs no shift):
 *   targets[b, t] = inputIds[b, t + 1]  when lossMask[b, t + 1] == 1,
 *   targets[b, t] = -1                  otherwise (prompt, padding, and the last position).
 * The loss is the mean cross-entropy over the targets ≠ -1 of the batch (`tokenCount` of them).
 */
export interface Batch {
  B: number;
  T: number;
  /** [B, T] token ids, padded with padId. */
  inputIds: Int32Array;
  /** [B, T] next-token targets, -1 where not counted. */
  targets: Int32Array;
  /** [B, T] 1 = real token, 0 = padding. */
  attentionMask: Uint8Array;
  /** Number of counted targets (≠ -1). */
  tokenCount: number;
  /** Which examples (indices into the input list) the rows are. */
  exampleIndices: number[];
}

export interface BatchOptions {
  shuffle: boolean;
  seed: number;
  padId: number;
}

/** Groups examples into batches of `batchSize` (the last one may be smaller). */
export function makeBatches(examples: EncodedExample[], batchSize: number, opts: BatchOptions): Batch[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const order = examples.map((_, i) => i);
  if (opts.shuffle) shuffleInPlace(order, mulberry32(opts.seed));
  const batches: Batch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const B = idx.length;
    const T = Math.max(...idx.map((i) => examples[i].inputIds.length));
    const inputIds = new Int32Array(B * T).fill(opts.padId);
    const targets = new Int32Array(B * T).fill(-1);
    const attentionMask = new Uint8Array(B * T);
    let tokenCount = 0;
    idx.forEach((ex, b) => {
      const { inputIds: ids, lossMask } = examples[ex];
      for (let t = 0; t < ids.length; t++) {
        inputIds[b * T + t] = ids[t];
        attentionMask[b * T + t] = 1;
        if (t + 1 < ids.length && lossMask[t + 1] === 1) {
          targets[b * T + t] = ids[t + 1];
          tokenCount++;
        }
      }
    });
    batches.push({ B, T, inputIds, targets, attentionMask, tokenCount, exampleIndices: idx });
  }
  return batches;
}
