/**
 * What a training run will hold in GPU memory, planned from (config, B, T) before anything is
 * allocated. Shape letters: B batch, T sequence length, C hidden, L layers, H heads, KV key/value
 * heads, D head dim, I MLP width, V vocab, R rank.
 *
 * - frozen weights: every base parameter in its source precision (bf16/f16: 2 bytes, f32: 4);
 * - activations (f32) the backward pass needs, per token of each of the L layers:
 *     attention: residual in C, normed C, q H·D, k KV·D, v KV·D, attention output H·D,
 *                softmax probabilities H·T (a row of T keys per head);
 *     MLP:       residual in C, normed C, and 3·I for gate, up and act(gate)·up (2·I for GPT-2's
 *                fc and GELU(fc));
 *   plus one more layer's worth for the gradients flowing back through the layer being
 *   differentiated, and per token 2·C (embedding output, final norm) and 2·V (logits and their
 *   gradient);
 * - LoRA: the adapter buffer (params) four times over: params, grads, AdamW m and v, all f32.
 */
import type { ModelConfig } from '../model/config.ts';
import { parameterCount } from '../model/config.ts';

export interface TrainShape {
  /** B */
  batchSize: number;
  /** T */
  seqLen: number;
}

export interface MemoryEstimate {
  frozenBytes: number;
  activationBytes: number;
  /** LoRA params + grads + AdamW m and v. */
  loraBytes: number;
  totalBytes: number;
  /** The biggest single buffer; it must fit in one storage binding. */
  largestBuffer: { name: string; bytes: number };
}

const F32 = 4;

/** Bytes per frozen weight for a `torch_dtype`. */
export function dtypeBytes(torchDtype: string): number {
  return /bfloat16|float16|bf16|f16|half/i.test(torchDtype) ? 2 : 4;
}

/** f32 values one layer keeps per token for the backward pass (see the file comment). */
export function layerFloatsPerToken(config: ModelConfig, seqLen: number): number {
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I } = config;
  const mlpActs = config.activation === 'silu' ? 3 : 2;
  return 4 * C + 2 * H * D + 2 * KV * D + mlpActs * I + H * seqLen;
}

/**
 * GPU memory of a training run. `adapterFloats` is the length of the adapter's parameter buffer
 * (`planAdapterLayout(...).totalFloats`).
 */
export function estimateTrainingMemory(config: ModelConfig, shape: TrainShape, adapterFloats: number): MemoryEstimate {
  const { batchSize: B, seqLen: T } = shape;
  const { hidden: C, vocabSize: V, layers: L, heads: H } = config;
  const wBytes = dtypeBytes(config.torchDtype);
  const frozenBytes = parameterCount(config) * wBytes;
  const perToken = (L + 1) * layerFloatsPerToken(config, T) + 2 * C + 2 * V;
  const activationBytes = F32 * B * T * perToken;
  const loraBytes = 4 * F32 * adapterFloats;
  const candidates = [
    { name: 'logits (batch × length × vocabulary)', bytes: F32 * B * T * V },
    { name: 'token embeddings (vocabulary × hidden)', bytes: wBytes * V * C },
    { name: 'attention scores of one layer (batch × heads × length²)', bytes: F32 * B * H * T * T },
    { name: 'MLP weight (MLP width × hidden)', bytes: wBytes * config.intermediate * C },
  ];
  const largestBuffer = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { frozenBytes, activationBytes, loraBytes, totalBytes: frozenBytes + activationBytes + loraBytes, largestBuffer };
}

/**
 * Browsers do not say how much memory a GPU has. This is what a page can count on from most
 * laptop GPUs (integrated ones share system memory); more may work.
 */
export const DEFAULT_GPU_BUDGET_BYTES = 4 * 1024 ** 3;

export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export interface MemoryVerdict {
  fits: boolean;
  /** A plain sentence: why it may not fit and what to try; empty when it fits. */
  advice: string;
}

/** Whether a run of this size should fit, and what to change when it may not. */
export function memoryVerdict(est: MemoryEstimate, limits: GpuLimits | null, budgetBytes = DEFAULT_GPU_BUDGET_BYTES): MemoryVerdict {
  const maxBinding = limits ? Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) : Infinity;
  const reasons: string[] = [];
  if (est.largestBuffer.bytes > maxBinding) {
    reasons.push(`the ${est.largestBuffer.name} need one block of ${gib(est.largestBuffer.bytes)} but this GPU allows ${gib(maxBinding)} per block`);
  }
  if (est.totalBytes > budgetBytes) reasons.push(`the total is more than the ${gib(budgetBytes)} most GPUs give a page`);
  if (reasons.length === 0) return { fits: true, advice: '' };
  const tryThis =
    est.frozenBytes > budgetBytes / 2
      ? 'try a smaller model'
      : 'try a smaller batch size or a shorter sequence length';
  return { fits: false, advice: `${reasons.join('; ')}: ${tryThis}` };
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
