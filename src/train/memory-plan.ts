/**
 * The memory plan of a training run with these options (src/model/plan-run.ts), and the
 * recomputation interval the trainer runs with: the same plan `tsugiki plan` prints.
 */
import type { ModelConfig } from '../model/config.ts';
import { DEFAULT_GPU_BUDGET_BYTES, planRun, weightTypeOf, type BaseWeights, type RunPlan } from '../model/plan-run.ts';
import type { WeightSource } from '../model/weights.ts';
import type { TrainOptions } from './options.ts';

export interface TrainPlanInputs {
  config: ModelConfig;
  /** The checkpoint's tensors (their dtypes); null: the config's torch_dtype for all. */
  weights: WeightSource | null;
  base?: BaseWeights;
  /** The device's largest storage binding, when known. */
  maxBindingBytes?: number;
}

/** The plan of a training run; recompute follows options.recompute ('auto' when absent). */
export function trainPlan(m: TrainPlanInputs, o: Pick<TrainOptions, 'adapter' | 'batchSize' | 'seqLen' | 'gradAccum' | 'optimizer' | 'recompute' | 'memoryBudget'>): RunPlan {
  const recompute = o.recompute === 'off' ? 0 : (o.recompute ?? 'auto');
  return planRun(m.config, {
    batchSize: o.batchSize, seqLen: o.seqLen, training: true, gradAccum: o.gradAccum, optimizer: o.optimizer,
    adapter: { rank: o.adapter.rank, targets: o.adapter.targets, layers: o.adapter.layers },
    recompute, budgetBytes: o.memoryBudget ?? DEFAULT_GPU_BUDGET_BYTES, maxBindingBytes: m.maxBindingBytes,
    base: m.base, weightType: m.weights ? weightTypeOf(m.weights) : undefined,
  });
}
