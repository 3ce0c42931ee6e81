/**
 * Masked losses of encoded examples through the network, in batches: for each row, the sum and
 * count of −log p(input_ids[i] | input_ids[<i]) over the positions i with lossMask[i] = 1, and
 * their mean. Label accuracy picks, for each row, the label whose completion has the highest
 * likelihood (the lowest summed loss) among the dataset's distinct labels.
 */
import { makeBatches } from '../data/batch.ts';
import type { EncodedExample } from '../data/prompt.ts';
import type { Network } from './network.ts';

export interface RowLoss {
  /** Σ −log p over counted tokens. */
  sum: number;
  count: number;
  /** sum / count, or null when the row has no counted token. */
  loss: number | null;
}

/** One RowLoss per example, in order. */
export async function rowLosses(net: Network, examples: EncodedExample[], batchSize: number, padId: number): Promise<RowLoss[]> {
  const out: RowLoss[] = new Array(examples.length);
  const { gpu } = net;
  for (const batch of makeBatches(examples, batchSize, { shuffle: false, seed: 0, padId })) {
    const rec = gpu.recorder('eval');
    net.recordZeroLoss(rec);
    net.recordStep(rec, batch, { backward: false, lossScale: 1, dropoutSeed: 0 });
    rec.submit();
    rec.destroy();
    await gpu.sync('evaluation');
    const tokenLoss = await gpu.pool.readF32(net.tokenLoss);
    batch.exampleIndices.forEach((ex, b) => {
      let sum = 0;
      let count = 0;
      for (let t = 0; t < batch.T; t++) {
        if (batch.targets[b * batch.T + t] < 0) continue;
        sum += tokenLoss[b * batch.T + t];
        count++;
      }
      out[ex] = { sum, count, loss: count > 0 ? sum / count : null };
    });
  }
  return out;
}

/**
 * Index of the predicted label for each row: candidates[r][j] is row r encoded with label j as
 * its output; the label with the lowest summed loss wins (the first on ties).
 */
export async function predictLabels(net: Network, candidates: EncodedExample[][], batchSize: number, padId: number): Promise<number[]> {
  const flat = candidates.flat();
  const losses = await rowLosses(net, flat, batchSize, padId);
  let at = 0;
  return candidates.map((row) => {
    let best = 0;
    row.forEach((_, j) => {
      if (losses[at + j].sum < losses[at + best].sum) best = j;
    });
    at += row.length;
    return best;
  });
}
