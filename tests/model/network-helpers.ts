/** Shared pieces of the network tests: tiny models, padded batches and the error metric. */
import type { Batch } from '../../src/data/batch.ts';
import { loadModelFiles, type LoadedModel } from '../../src/model/load-source.ts';
import type { SafeDtype } from '../../src/io/safetensors.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { rng } from '../helpers/numeric.ts';

export function tinyModel(kind: TinyKind, dtype: SafeDtype = 'F32', seed = 1234): LoadedModel {
  return loadModelFiles(tinyModelFiles(kind, { dtype, seed }), `tiny-${kind}-${dtype}`);
}

/** Random token rows of the given lengths, right-padded into one batch (targets: next token of real rows). */
export function paddedBatch(lengths: number[], vocab: number, seed: number, padId = 1, promptLen = 0): { batch: Batch; rows: number[][] } {
  const next = rng(seed);
  const rows = lengths.map((n) => Array.from({ length: n }, () => 2 + Math.floor(next() * (vocab - 2))));
  const B = rows.length;
  const T = Math.max(...lengths);
  const inputIds = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-1);
  const attentionMask = new Uint8Array(B * T);
  let tokenCount = 0;
  rows.forEach((r, b) => r.forEach((id, t) => {
    inputIds[b * T + t] = id;
    attentionMask[b * T + t] = 1;
    if (t + 1 < r.length && t + 1 >= promptLen) {
      targets[b * T + t] = r[t + 1];
      tokenCount++;
    }
  }));
  return { batch: { B, T, inputIds, targets, attentionMask, tokenCount, exampleIndices: rows.map((_, i) => i) }, rows };
}

/**
 * The logits metric: max over real (non-padding) positions of |gpu − ref|, divided by the largest
 * |ref| of the batch. Returns that and the plain max abs error.
 */
export function logitsError(gpu: Float32Array, ref: Float64Array[], lengths: number[], T: number, V: number): { rel: number; abs: number } {
  let abs = 0;
  let scale = 0;
  ref.forEach((r, b) => {
    for (let t = 0; t < lengths[b]; t++) {
      for (let v = 0; v < V; v++) {
        const want = r[t * V + v];
        const got = gpu[(b * T + t) * V + v];
        const e = Math.abs(got - want);
        abs = Number.isNaN(e) ? Infinity : Math.max(abs, e);
        scale = Math.max(scale, Math.abs(want));
      }
    }
  });
  return { rel: abs / scale, abs };
}
