/**
 * From rows to what the trainer consumes: a deterministic train/validation split, encoded
 * examples (loss on the answer tokens only), the label set when outputs are class labels, and the
 * batches of each epoch in a seeded order that a checkpoint can reproduce from (seed, epoch).
 */
import { makeBatches, type Batch } from '../data/batch.ts';
import type { Row } from '../data/dataset.ts';
import { encodeExample, type EncodedExample } from '../data/prompt.ts';
import { labelDistribution } from '../data/report.ts';
import { mulberry32, shuffleInPlace } from '../data/rng.ts';
import { splitTrainVal } from '../data/split.ts';
import type { Tokenizer } from '../data/tokenizer.ts';

/** Outputs are scored as labels when there are at most this many, each at most this many characters. */
export const MAX_SCORED_LABELS = 20;
export const MAX_LABEL_CHARS = 40;

export interface TrainData {
  train: EncodedExample[];
  val: EncodedExample[];
  /** The rows behind `val`, for label scoring. */
  valRows: Row[];
  /** Row indices of each side (into the input rows). */
  split: { train: number[]; val: number[] };
  /** Class labels (most frequent first) when outputs are labels, else null. */
  labels: string[] | null;
  /** How many rows were cut to fit the sequence length. */
  truncated: number;
  padId: number;
  useChatTemplate: boolean;
}

export interface DataOptions {
  seqLen: number;
  valSplit: number;
  seed: number;
  useChatTemplate?: boolean;
}

export function padIdOf(tokenizer: Tokenizer): number {
  return tokenizer.padId ?? tokenizer.eosId ?? 0;
}

/** Label candidates when the outputs look like a few short class labels, else null. */
export function scoredLabels(rows: Row[]): string[] | null {
  const dist = labelDistribution(rows);
  if (!dist || dist.length < 2 || dist.length > MAX_SCORED_LABELS) return null;
  if (dist.some((d) => d.label.length > MAX_LABEL_CHARS)) return null;
  return dist.map((d) => d.label);
}

export function prepareTrainData(rows: Row[], tokenizer: Tokenizer, o: DataOptions): TrainData {
  if (rows.length === 0) throw new Error('the dataset has no rows to train on');
  const useChatTemplate = o.useChatTemplate ?? tokenizer.chatTemplate !== null;
  const split = splitTrainVal(rows.length, o.valSplit, o.seed);
  let truncated = 0;
  const enc = (r: Row) => {
    const e = encodeExample(tokenizer, r, { seqLen: o.seqLen, useChatTemplate });
    if (e.truncated) truncated++;
    return e;
  };
  const train = split.train.map((i) => enc(rows[i]));
  const val = split.val.map((i) => enc(rows[i]));
  const counted = train.reduce((n, e) => n + e.lossMask.reduce((a, b) => a + b, 0), 0);
  if (counted === 0) throw new Error('no training row has an answer token to learn from; check the output column');
  return {
    train,
    val,
    valRows: split.val.map((i) => rows[i]),
    split,
    labels: scoredLabels(rows),
    truncated,
    padId: padIdOf(tokenizer),
    useChatTemplate,
  };
}

/** The seed of epoch e's shuffle: one stream per epoch, apart from the split's seed. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + 0x632be5ab * (epoch + 1)) >>> 0;
}

/** The micro-batches of one epoch, in the order the trainer takes them. */
export function epochBatches(train: EncodedExample[], epoch: number, o: { batchSize: number; shuffle: boolean; seed: number; padId: number }): Batch[] {
  const order = train.map((_, i) => i);
  if (o.shuffle) shuffleInPlace(order, mulberry32(epochSeed(o.seed, epoch)));
  const batches = makeBatches(order.map((i) => train[i]), o.batchSize, { shuffle: false, seed: 0, padId: o.padId });
  for (const b of batches) b.exampleIndices = b.exampleIndices.map((k) => order[k]);
  return batches;
}

/** Micro-batches per epoch and optimizer steps per epoch (the last step of an epoch may take fewer). */
export function stepsPerEpoch(trainRows: number, batchSize: number, gradAccum: number): { micro: number; steps: number } {
  const micro = Math.ceil(trainRows / batchSize);
  return { micro, steps: Math.ceil(micro / gradAccum) };
}

/** Total optimizer steps of a run. */
export function totalSteps(trainRows: number, o: { steps: number | null; epochs: number; batchSize: number; gradAccum: number }): number {
  if (o.steps !== null) return o.steps;
  return Math.max(1, Math.ceil(o.epochs * stepsPerEpoch(trainRows, o.batchSize, o.gradAccum).steps));
}

/** Where the data stream stands: the next micro-batch is batch `batch` of epoch `epoch`. */
export interface DataCursor {
  epoch: number;
  batch: number;
}

/**
 * Walks the epochs' micro-batches, one optimizer step (up to gradAccum micro-batches, never across
 * an epoch's end) at a time. Epoch batches are rebuilt from the seed, so a cursor is all a
 * checkpoint needs to continue in the same order.
 */
export class BatchStream {
  private cached: { epoch: number; batches: Batch[] } | null = null;

  constructor(
    private readonly train: EncodedExample[],
    private readonly o: { batchSize: number; gradAccum: number; shuffle: boolean; seed: number; padId: number },
    public cursor: DataCursor = { epoch: 0, batch: 0 },
  ) {}

  private batchesOf(epoch: number): Batch[] {
    if (this.cached?.epoch !== epoch) this.cached = { epoch, batches: epochBatches(this.train, epoch, this.o) };
    return this.cached.batches;
  }

  /** The micro-batches of the next optimizer step; advances the cursor. */
  nextStep(): Batch[] {
    let batches = this.batchesOf(this.cursor.epoch);
    if (this.cursor.batch >= batches.length) {
      this.cursor = { epoch: this.cursor.epoch + 1, batch: 0 };
      batches = this.batchesOf(this.cursor.epoch);
    }
    const take = batches.slice(this.cursor.batch, this.cursor.batch + this.o.gradAccum);
    this.cursor = { epoch: this.cursor.epoch, batch: this.cursor.batch + take.length };
    return take;
  }

  /** Fractional epochs done (HF's `epoch` in logs). */
  epochProgress(): number {
    const n = this.batchesOf(this.cursor.epoch).length;
    return this.cursor.epoch + this.cursor.batch / n;
  }
}
