/**
 * Training settings, their defaults and their validation. Defaults follow PEFT's LoraConfig and
 * the Hugging Face Trainer (TrainingArguments) where those have one:
 *
 *   from the HF Trainer: AdamW β = (0.9, 0.999), ε = 1e-8, weight_decay 0, max_grad_norm 1.0,
 *     warmup 0, lr_scheduler_type "linear", num_train_epochs 3, per_device_train_batch_size 8,
 *     gradient_accumulation_steps 1, seed 42, shuffled data each epoch.
 *   from PEFT: r = 8, init A ~ Kaiming-uniform(a=√5), B = 0, the per-architecture default targets
 *     (q_proj,v_proj for Llama, c_attn for GPT-2), no rsLoRA.
 *   chosen here, where the libraries' defaults suit full fine-tuning or have none:
 *     lr 2e-4: the Trainer's 5e-5 is a full-fine-tuning value; LoRA recipes (PEFT examples, QLoRA)
 *       use 1e-4 … 3e-4.
 *     alpha 16 (= 2·r): PEFT's lora_alpha is 8 (scale 1); the common recipe alpha = 2r gives scale 2.
 *     dropout 0.05: PEFT's lora_dropout is 0.0; the studio's users have a few hundred to a few
 *       thousand rows, where 0.05 (the QLoRA/PEFT-example value) guards against overfitting.
 *     sequence length 256 (capped by the model's context): no Trainer default; covers typical
 *       classification and short-answer rows while keeping the activation memory small.
 *     validation split 0.1, validation about 10 times per run and at the end.
 */
import type { AdapterConfig } from '../lora/config.ts';
import type { ScheduleKind } from './schedule.ts';

export type OptimizerKind = 'adamw' | 'sgd';

export interface TrainOptions {
  adapter: AdapterConfig;
  lr: number;
  /** Passes over the training rows, used when `steps` is null. */
  epochs: number;
  /** Optimizer steps; overrides epochs when set. */
  steps: number | null;
  /** Rows per micro-batch (B). */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  gradAccum: number;
  /** T: tokens per row at most (prompt cut from the left, the answer kept). */
  seqLen: number;
  /** Warmup steps, or a fraction of the run when in (0, 1). */
  warmup: number;
  schedule: ScheduleKind;
  weightDecay: number;
  /** Clip the global gradient norm to this; 0 turns clipping off. */
  maxGradNorm: number;
  optimizer: OptimizerKind;
  beta1: number;
  beta2: number;
  eps: number;
  /** Seed of the split, the shuffles and the dropout masks (the adapter init has its own in `adapter.seed`). */
  seed: number;
  /** Fraction of rows held out for validation, in [0, 1). */
  valSplit: number;
  shuffle: boolean;
  /** Validate every this many steps (and after the last); 0 = only at the end. null = about 10 times per run. */
  evalEvery: number | null;
  /** Stop when the validation loss has not improved for this many validations; null = never. */
  patience: number | null;
  /**
   * Recompute block activations in backward: 'auto' (absent too) when the run would not fit the
   * memory budget otherwise, 'on' always, 'off' never (see src/model/plan-run.ts).
   */
  recompute?: 'auto' | 'on' | 'off';
  /** The GPU memory the run may plan for, in bytes (default: plan-run's DEFAULT_GPU_BUDGET_BYTES). */
  memoryBudget?: number;
}

export const DEFAULT_LR = 2e-4;
export const DEFAULT_ALPHA = 16;
export const DEFAULT_DROPOUT = 0.05;
export const DEFAULT_SEQ_LEN = 256;

/** Every setting except the adapter, at its default. */
export function defaultTrainSettings(): Omit<TrainOptions, 'adapter'> {
  return {
    lr: DEFAULT_LR,
    epochs: 3,
    steps: null,
    batchSize: 8,
    gradAccum: 1,
    seqLen: DEFAULT_SEQ_LEN,
    warmup: 0,
    schedule: 'linear',
    weightDecay: 0,
    maxGradNorm: 1,
    optimizer: 'adamw',
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    seed: 42,
    valSplit: 0.1,
    shuffle: true,
    evalEvery: null,
    patience: null,
  };
}

const positiveInt = (v: number | null) => v !== null && Number.isInteger(v) && v >= 1;

/** Every problem with the training settings, as sentences (empty when valid). */
export function trainOptionProblems(o: TrainOptions, maxPositions: number): string[] {
  const p: string[] = [];
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) p.push(`the learning rate must be a number > 0 (got ${o.lr}); ${DEFAULT_LR} is a common LoRA value`);
  if (o.steps === null && !(o.epochs > 0)) p.push(`epochs must be > 0 (got ${o.epochs})`);
  if (o.steps !== null && !positiveInt(o.steps)) p.push(`steps must be a whole number ≥ 1 (got ${o.steps})`);
  if (!positiveInt(o.batchSize)) p.push(`the batch size must be a whole number ≥ 1 (got ${o.batchSize})`);
  if (!positiveInt(o.gradAccum)) p.push(`gradient accumulation must be a whole number ≥ 1 (got ${o.gradAccum})`);
  if (!Number.isInteger(o.seqLen) || o.seqLen < 2) p.push(`the sequence length must be a whole number ≥ 2 (got ${o.seqLen})`);
  else if (o.seqLen > maxPositions) p.push(`the sequence length ${o.seqLen} is longer than the model's context of ${maxPositions} tokens; use --seq-len ${maxPositions} or less`);
  if (!(o.warmup >= 0)) p.push(`warmup must be ≥ 0 (got ${o.warmup})`);
  if (o.warmup >= 1 && !Number.isInteger(o.warmup)) p.push(`warmup ${o.warmup} must be a whole number of steps, or a fraction below 1`);
  if (!(o.weightDecay >= 0)) p.push(`weight decay must be ≥ 0 (got ${o.weightDecay})`);
  if (!(o.maxGradNorm >= 0)) p.push(`the gradient-norm limit must be ≥ 0 (got ${o.maxGradNorm}); 0 turns clipping off`);
  if (o.optimizer !== 'adamw' && o.optimizer !== 'sgd') p.push(`the optimizer must be adamw or sgd (got '${String(o.optimizer)}')`);
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) p.push(`AdamW betas must be in [0, 1) (got ${o.beta1}, ${o.beta2})`);
  if (!(o.eps > 0)) p.push(`AdamW eps must be > 0 (got ${o.eps})`);
  if (!Number.isSafeInteger(o.seed)) p.push(`the seed must be a whole number (got ${o.seed})`);
  if (!(o.valSplit >= 0 && o.valSplit < 1)) p.push(`the validation split must be in [0, 1) (got ${o.valSplit}); 0.1 keeps a tenth of the rows for validation`);
  if (o.evalEvery !== null && !(Number.isInteger(o.evalEvery) && o.evalEvery >= 0)) p.push(`validate-every must be a whole number ≥ 0 (got ${o.evalEvery})`);
  if (o.patience !== null && !positiveInt(o.patience)) p.push(`patience must be a whole number ≥ 1 (got ${o.patience})`);
  if (o.patience !== null && o.valSplit === 0) p.push('early stopping (patience) needs validation rows; set a validation split above 0');
  return p;
}

export class TrainOptionsError extends Error {
  override readonly name = 'TrainOptionsError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `the training settings have ${problems.length} problems:\n- ${problems.join('\n- ')}`);
  }
}

export function validateTrainOptions(o: TrainOptions, maxPositions: number): TrainOptions {
  const problems = trainOptionProblems(o, maxPositions);
  if (problems.length > 0) throw new TrainOptionsError(problems);
  return o;
}
