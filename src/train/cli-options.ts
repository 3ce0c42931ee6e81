/** `tsugiki train` options → TrainOptions (the DESIGN.md option list plus --eval-every, --patience, --resume). */
import { numberOption, stringOption, UsageError, type ParsedArgs } from '../cli/args.ts';
import { defaultAdapterConfig, parseLayers, parseTargets } from '../lora/config.ts';
import type { ModelConfig } from '../model/config.ts';
import { DEFAULT_ALPHA, DEFAULT_DROPOUT, DEFAULT_SEQ_LEN, defaultTrainSettings, type TrainOptions } from './options.ts';
import { SCHEDULE_KINDS, type ScheduleKind } from './schedule.ts';

export const TRAIN_VALUED = [
  'data', 'out', 'rank', 'alpha', 'dropout', 'targets', 'layers', 'lr', 'epochs', 'steps', 'batch-size', 'grad-accum',
  'seq-len', 'warmup', 'schedule', 'weight-decay', 'max-grad-norm', 'optimizer', 'seed', 'val-split', 'init-adapter',
  'input-column', 'output-column', 'eval-every', 'patience', 'resume', 'memory-budget',
] as const;
export const TRAIN_FLAGS = ['rslora', 'no-shuffle', 'json', 'recompute', 'no-recompute', 'base-4bit'] as const;

/** --recompute / --no-recompute (neither: 'auto', on only when the run would not fit the budget). */
export function recomputeFromArgs(a: ParsedArgs): 'auto' | 'on' | 'off' {
  const on = a.options.has('recompute');
  const off = a.options.has('no-recompute');
  if (on && off) throw new UsageError('--recompute and --no-recompute contradict each other; give one (or neither for automatic).');
  return on ? 'on' : off ? 'off' : 'auto';
}

/** --memory-budget GIB: the GPU memory the run may plan for (default 4 GiB, what most GPUs give a page). */
export function memoryBudgetFromArgs(a: ParsedArgs): number | undefined {
  if (stringOption(a, 'memory-budget') === undefined) return undefined;
  return Math.round(numberOption(a, 'memory-budget', 4, { min: 0.01 }) * 1024 ** 3);
}

function choice<T extends string>(a: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = stringOption(a, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} ${v}: choose one of ${allowed.join(', ')}.`);
  return v as T;
}

function optionalInt(a: ParsedArgs, name: string, min: number): number | null {
  return stringOption(a, name) === undefined ? null : numberOption(a, name, 0, { integer: true, min });
}

export function trainOptionsFromArgs(a: ParsedArgs, config: ModelConfig): TrainOptions {
  const d = defaultTrainSettings();
  const base = defaultAdapterConfig(config.arch);
  const rank = numberOption(a, 'rank', base.rank, { integer: true, min: 1 });
  const seed = numberOption(a, 'seed', d.seed, { integer: true, min: 0 });
  const targets = stringOption(a, 'targets');
  const layers = stringOption(a, 'layers');
  return {
    adapter: {
      ...base,
      rank,
      alpha: numberOption(a, 'alpha', DEFAULT_ALPHA),
      dropout: numberOption(a, 'dropout', DEFAULT_DROPOUT, { min: 0 }),
      targets: targets === undefined ? base.targets : parseTargets(targets, config.arch),
      layers: layers === undefined ? null : parseLayers(layers, config.layers),
      rslora: a.options.has('rslora'),
      seed,
    },
    lr: numberOption(a, 'lr', d.lr),
    epochs: numberOption(a, 'epochs', d.epochs),
    steps: optionalInt(a, 'steps', 1),
    batchSize: numberOption(a, 'batch-size', d.batchSize, { integer: true, min: 1 }),
    gradAccum: numberOption(a, 'grad-accum', d.gradAccum, { integer: true, min: 1 }),
    seqLen: numberOption(a, 'seq-len', Math.min(DEFAULT_SEQ_LEN, config.maxPositions), { integer: true, min: 2 }),
    warmup: numberOption(a, 'warmup', d.warmup, { min: 0 }),
    schedule: choice<ScheduleKind>(a, 'schedule', SCHEDULE_KINDS, d.schedule),
    weightDecay: numberOption(a, 'weight-decay', d.weightDecay, { min: 0 }),
    maxGradNorm: numberOption(a, 'max-grad-norm', d.maxGradNorm, { min: 0 }),
    optimizer: choice(a, 'optimizer', ['adamw', 'sgd'] as const, d.optimizer),
    beta1: d.beta1,
    beta2: d.beta2,
    eps: d.eps,
    seed,
    valSplit: numberOption(a, 'val-split', d.valSplit, { min: 0 }),
    shuffle: !a.options.has('no-shuffle'),
    evalEvery: optionalInt(a, 'eval-every', 0),
    patience: optionalInt(a, 'patience', 1),
    recompute: recomputeFromArgs(a),
    memoryBudget: memoryBudgetFromArgs(a),
  };
}
