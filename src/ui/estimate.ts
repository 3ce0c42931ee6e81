/**
 * What a training run will hold in GPU memory, as the studio shows it: the engine's own plan
 * (src/model/plan-run.ts) from the config alone, grouped for people: the model (frozen weights),
 * the work in progress (activations, uniforms, readback), and the adapter with its optimizer state.
 * The "fits" verdict compares the plan's peak with the page's budget and its largest buffer with
 * this GPU's binding limit.
 */
import type { ModelConfig } from '../model/config.ts';
import { DEFAULT_GPU_BUDGET_BYTES, planRun, type BaseWeights, type RunPlan } from '../model/plan-run.ts';

export { DEFAULT_GPU_BUDGET_BYTES };

export interface TrainShape {
  /** B */
  batchSize: number;
  /** T */
  seqLen: number;
  adapter: { rank: number; targets: string[] | 'all-linear'; layers: number[] | null } | null;
  /** 'auto' (default): recompute activations only when the run would not fit otherwise; 'on': always. */
  recompute?: 'auto' | 'on';
  base?: BaseWeights;
}

export interface MemoryEstimate {
  frozenBytes: number;
  activationBytes: number;
  /** LoRA params + grads + AdamW m and v + the trainer's best adapter. */
  loraBytes: number;
  totalBytes: number;
  /** The biggest single buffer; it must fit in one storage binding. */
  largestBuffer: { name: string; bytes: number };
  /** Whether the plan recomputes activations in backward (every k-th block input kept), 0: no. */
  recompute: number;
  plan: RunPlan;
}

export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

const maxBinding = (limits: GpuLimits | null) => (limits ? Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) : Infinity);

/** A buffer label as a person reads it. */
function bufferName(label: string): string {
  if (label === 'activations.logits') return 'logits of one chunk of rows';
  if (/embed_tokens|wte|lm_head/.test(label)) return 'token embeddings (vocabulary × hidden)';
  if (label.startsWith('weights.')) return `model weight ${label.slice('weights.'.length)}`;
  return label;
}

/** GPU memory of a training run of these settings, from the engine's plan. */
export function estimateTrainingMemory(config: ModelConfig, shape: TrainShape, limits: GpuLimits | null = null, budgetBytes = DEFAULT_GPU_BUDGET_BYTES): MemoryEstimate {
  const plan = planRun(config, {
    batchSize: shape.batchSize, seqLen: shape.seqLen, training: true, adapter: shape.adapter,
    recompute: shape.recompute ?? 'auto', base: shape.base, budgetBytes, maxBindingBytes: maxBinding(limits),
  });
  const o = plan.owners;
  const frozenBytes = o.weights ?? 0;
  const loraBytes = (o.adapter ?? 0) + (o.train ?? 0);
  return {
    frozenBytes, loraBytes,
    activationBytes: plan.peakBytes - frozenBytes - loraBytes,
    totalBytes: plan.peakBytes,
    largestBuffer: { name: bufferName(plan.largest.label), bytes: plan.largest.bytes },
    recompute: plan.recompute,
    plan,
  };
}

export interface MemoryVerdict {
  fits: boolean;
  /** A plain sentence: why it may not fit and what to try; empty when it fits. */
  advice: string;
}

/** Whether a run of this size should fit, and what to change when it may not. */
export function memoryVerdict(est: MemoryEstimate, limits: GpuLimits | null, budgetBytes = DEFAULT_GPU_BUDGET_BYTES): MemoryVerdict {
  const binding = maxBinding(limits);
  const reasons: string[] = [];
  if (est.largestBuffer.bytes > binding) {
    reasons.push(`the ${est.largestBuffer.name} need one block of ${gib(est.largestBuffer.bytes)} but this GPU allows ${gib(binding)} per block`);
  }
  if (est.totalBytes > budgetBytes) reasons.push(`the total is more than the ${gib(budgetBytes)} most GPUs give a page`);
  if (reasons.length === 0) return { fits: true, advice: '' };
  const tryThis = est.frozenBytes > budgetBytes / 2 ? 'try a smaller model' : 'try a smaller batch size or a shorter sequence length';
  return { fits: false, advice: `${reasons.join('; ')}: ${tryThis}` };
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
