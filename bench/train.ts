/**
 * Training throughput: the trainer's own LoRA step (forward + backward of the whole network, grad
 * norm + clip, AdamW, one submit per step, loss read back one step late) on B rows of exactly T
 * tokens, r = 8 on every linear module. Rows are real text: consecutive rows of the dataset packed
 * into one prompt until it passes T tokens, so the trainer's encoder cuts each to exactly T (prompt
 * cut from the left, the last row's answer kept). Every one of the B·T positions is a real token;
 * the counted targets are the answer tokens (and EOS) only.
 *
 * Memory: the pool's peak during the timed steps (everything live: weights, activations, adapter,
 * optimizer, the trainer's best adapter), the engine's run plan split by owner, and what a full fine-tune of the same
 * model would need at the same B×T: weights + gradients + AdamW m and v, all f32, plus the same
 * activations. memory_ratio = full_finetune_bytes / planned LoRA bytes.
 */
import type { Row } from '../src/data/dataset.ts';
import type { Tokenizer } from '../src/data/tokenizer.ts';
import type { Gpu } from '../src/gpu/device.ts';
import { formatBytes } from '../src/gpu/pool.ts';
import { defaultAdapterConfig } from '../src/lora/config.ts';
import { parameterCount } from '../src/model/config.ts';
import type { LoadedModel } from '../src/model/load-source.ts';
import { DEFAULT_DROPOUT, DEFAULT_LR, defaultTrainSettings, type TrainOptions } from '../src/train/options.ts';
import { Trainer } from '../src/train/trainer.ts';
import { trainPlan } from '../src/train/memory-plan.ts';

/** The default model and rows, beside the repository (shared/data). */
export const DEFAULT_TRAIN_MODEL = new URL('../../shared/data/models/stories260K.gguf', import.meta.url).pathname;
export const DEFAULT_TRAIN_DATA = new URL('../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url).pathname;

export const TRAIN_RANK = 8;
export const TRAIN_WARMUP_STEPS = 2;

export interface TrainBenchOptions {
  model: LoadedModel;
  /** How the report names the model (the path or hf: id given). */
  modelName: string;
  /** Source rows (input → output); packed into rows of exactly seqLen tokens. */
  rows: Row[];
  /** How the report names the rows (the file). */
  dataName: string;
  /** B */
  batch: number;
  /** T */
  seqLen: number;
  /** Timed optimizer steps, after TRAIN_WARMUP_STEPS untimed ones. */
  steps: number;
  log?: (line: string) => void;
}

export interface PlannedBytes {
  weights_bytes: number;
  activation_bytes: number;
  /** LoRA params + gradients + AdamW m and v. */
  adapter_bytes: number;
  total_bytes: number;
}

export interface TrainBenchReport {
  model: string;
  data: string;
  batch: number;
  seq_len: number;
  rank: number;
  steps: number;
  /** All B·T positions per second. */
  tokens_per_s: number;
  /** Counted (answer) target tokens per second. */
  counted_tokens_per_s: number;
  /** Mean wall time of one step over the timed steps (submit to GPU done, pipelined as in training). */
  step_ms: number;
  /** Mean counted target tokens per step. */
  counted_tokens_per_step: number;
  /** Last loss of the timed steps (a sanity check: finite, about ln V at the start). */
  loss: number;
  peak_gpu_bytes: number;
  planned: PlannedBytes;
  /** Parameters of the model (tied embeddings counted once). */
  parameters: number;
  full_finetune_bytes: number;
  memory_ratio: number;
}

/**
 * `count` rows for training: consecutive source rows (cycling) joined by newlines in the input
 * until it holds more than `seqLen` tokens; the output is the last joined row's output, whose text
 * ends the prompt and so survives the cut from the left.
 */
export function packRows(tokenizer: Tokenizer, source: Row[], count: number, seqLen: number): Row[] {
  const usable = source.filter((r) => r.input.length > 0 && r.output.length > 0);
  if (usable.length === 0) throw new Error('training benchmark: the dataset has no row with both an input and an output.');
  const lengths = new Map<number, number>();
  const tokensOf = (i: number) => {
    let n = lengths.get(i);
    if (n === undefined) lengths.set(i, (n = tokenizer.encode(usable[i].input, { addBos: false }).length));
    return n;
  };
  const out: Row[] = [];
  let next = 0;
  for (let k = 0; k < count; k++) {
    const parts: string[] = [];
    let tokens = 0;
    let last = usable[0];
    // A margin of 8 tokens covers merges across the joins; the trainer's encoding is checked after.
    for (let guard = 0; tokens < seqLen + 8; guard++) {
      if (guard > usable.length) throw new Error(`training benchmark: all ${usable.length} rows together hold fewer than ${seqLen} tokens; use a bigger dataset or a smaller --seq-len.`);
      const i = next % usable.length;
      next++;
      last = usable[i];
      parts.push(last.input);
      tokens += tokensOf(i) + 1;
    }
    out.push({ input: parts.join('\n'), output: last.output, line: k + 1 });
  }
  return out;
}

/** Planned bytes of LoRA training (the engine's run plan) and of a full fine-tune at the same B×T. */
function memoryOf(gpu: Gpu, trainer: Trainer): { planned: PlannedBytes; parameters: number; full: number } {
  const plan = trainPlan({ config: trainer.model.config, weights: trainer.model.weights, maxBindingBytes: gpu.adapter.maxStorageBufferBindingSize }, trainer.options);
  const weights = plan.owners.weights ?? 0;
  const adapter = (plan.owners.adapter ?? 0) + (plan.owners.train ?? 0);
  const planned = {
    weights_bytes: weights,
    activation_bytes: plan.peakBytes - weights - adapter,
    adapter_bytes: adapter,
    total_bytes: plan.peakBytes,
  };
  const parameters = parameterCount(trainer.model.config);
  // weights, gradients, AdamW m and v: four f32 copies of every parameter.
  return { planned, parameters, full: 4 * 4 * parameters + planned.activation_bytes };
}

export async function runTrainBench(gpu: Gpu, o: TrainBenchOptions): Promise<TrainBenchReport> {
  const log = o.log ?? (() => {});
  const { batch: B, seqLen: T, steps } = o;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`training benchmark: timed steps must be a whole number ≥ 1 (got ${steps}).`);
  const total = TRAIN_WARMUP_STEPS + steps;
  const rows = packRows(o.model.tokenizer, o.rows, B * total, T);
  const options: TrainOptions = {
    ...defaultTrainSettings(),
    adapter: { ...defaultAdapterConfig(o.model.config.arch), rank: TRAIN_RANK, alpha: 2 * TRAIN_RANK, dropout: DEFAULT_DROPOUT, targets: 'all-linear', seed: 1 },
    lr: DEFAULT_LR, steps: total, batchSize: B, gradAccum: 1, seqLen: T, warmup: 0, schedule: 'constant',
    optimizer: 'adamw', valSplit: 0, evalEvery: 0, shuffle: false, seed: 1,
  };
  const baseline = gpu.pool.liveBytes;
  const oldPeak = gpu.pool.peakBytes;
  log(`training step ${o.modelName} B=${B} T=${T} r=${TRAIN_RANK}…`);
  const trainer = await Trainer.create(gpu, o.model, rows, options);
  try {
    const short = trainer.data.train.find((e) => e.inputIds.length !== T);
    if (short) throw new Error(`training benchmark: a packed row encodes to ${short.inputIds.length} tokens, not ${T}; the tokenizer merges across rows more than expected.`);
    await trainer.run({ stopAfter: TRAIN_WARMUP_STEPS });
    gpu.pool.peakBytes = gpu.pool.liveBytes;
    const counted0 = trainer.state.tokens;
    let loss = NaN;
    const t0 = performance.now();
    const result = await trainer.run({ stopAfter: total, onStep: (e) => (loss = e.loss) });
    const ms = performance.now() - t0;
    if (result.reason !== 'done' || result.steps !== total) throw new Error(`training benchmark: the run stopped after ${result.steps} of ${total} steps (${result.message ?? result.reason}).`);
    const peak = gpu.pool.peakBytes - baseline;
    const counted = (trainer.state.tokens - counted0) / steps;
    const step_ms = ms / steps;
    const { planned, parameters, full } = memoryOf(gpu, trainer);
    return {
      model: o.modelName, data: o.dataName, batch: B, seq_len: T, rank: TRAIN_RANK, steps,
      tokens_per_s: (B * T) / (step_ms / 1000),
      counted_tokens_per_s: counted / (step_ms / 1000),
      step_ms, counted_tokens_per_step: counted, loss,
      peak_gpu_bytes: peak, planned, parameters,
      full_finetune_bytes: full, memory_ratio: full / planned.total_bytes,
    };
  } finally {
    trainer.destroy();
    gpu.pool.peakBytes = Math.max(oldPeak, gpu.pool.peakBytes);
  }
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

/** The training section as text. */
export function formatTrainReport(r: TrainBenchReport): string {
  const p = r.planned;
  return [
    `training: ${r.model}, LoRA r=${r.rank} on all linear modules, AdamW, batch ${r.batch} × ${r.seq_len} tokens`,
    `  rows            ${r.data}, packed so each row is ${r.seq_len} real tokens`,
    `  step            ${r.step_ms.toFixed(1)} ms (mean of ${r.steps} after ${TRAIN_WARMUP_STEPS} warm-up), loss ${r.loss.toFixed(3)}`,
    `  throughput      ${thousands(r.tokens_per_s)} tokens/s (all B·T positions), ${thousands(r.counted_tokens_per_s)} counted target tokens/s (${r.counted_tokens_per_step.toFixed(1)} per step)`,
    `  peak GPU        ${formatBytes(r.peak_gpu_bytes)} (buffer pool, during the timed steps)`,
    `  planned         weights ${formatBytes(p.weights_bytes)} + activations ${formatBytes(p.activation_bytes)} + adapter, grads, AdamW ${formatBytes(p.adapter_bytes)} = ${formatBytes(p.total_bytes)}`,
    `  full fine-tune  ${formatBytes(r.full_finetune_bytes)} (${thousands(r.parameters)} params × f32 weights, grads, AdamW m, v + the same activations) = ${r.memory_ratio.toFixed(2)}× the LoRA plan`,
    '',
  ].join('\n');
}
