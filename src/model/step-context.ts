/**
 * What one recorded forward (and backward) needs: the recorder, weights, planned activations,
 * the batch's dims and input tensors, the linear modules of each layer (with their LoRA views),
 * and, in generation, the KV cache.
 */
import type { Recorder } from '../gpu/recorder.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { ModelConfig } from './config.ts';
import type { LinearSite } from './forward-linear.ts';
import type { GpuWeights } from './gpu-weights.ts';
import type { Activations } from './plan.ts';

export interface KvCache {
  /** Per layer [1, S, KV, D], f32. */
  k: Tensor[];
  v: Tensor[];
  /** Rows S of each cache tensor. */
  S: number;
  /** Tokens already in the cache before this step. */
  past: number;
  /** [1, S] u32, all 1: causality hides the keys past the current position. */
  keyMask: Tensor;
}

export interface StepContext {
  rec: Recorder;
  config: ModelConfig;
  weights: GpuWeights;
  acts: Activations;
  B: number;
  T: number;
  /** ids, positions and targets i32 [N] (N = B·T); keyMask u32 [B, T]. */
  ids: Tensor;
  positions: Tensor;
  keyMask: Tensor;
  targets: Tensor;
  /** RoPE inverse frequencies [D/2] (null for learned positions). */
  invFreq: Float32Array | null;
  /** Those of the sliding-window layers when they differ (Gemma 3), else null. */
  invFreqLocal?: Float32Array | null;
  /** The projection at `path` (`self_attn.q_proj`, GPT-2's `attn.q_proj`) of layer l, with its LoRA views for this step. */
  site(l: number, path: string): LinearSite;
  cache: KvCache | null;
  /** LoRA rank (null without an adapter): the width of the dh scratch. */
  rank: number | null;
}

/** The same buffer under another shape (same element count or fewer). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  return { ...t, shape: [...shape] };
}

/** Norm weight names of layer l: [before attention, before MLP]. */
export function normNames(config: ModelConfig, l: number): [string, string] {
  if (config.arch === 'gpt2') return [`transformer.h.${l}.ln_1`, `transformer.h.${l}.ln_2`];
  const p = `model.layers.${l}.`;
  return [`${p}input_layernorm`, config.sandwichNorms ? `${p}pre_feedforward_layernorm` : `${p}post_attention_layernorm`];
}

/** Gemma 3's norms of the attention and MLP outputs (before each residual add) of layer l. */
export function outputNormNames(l: number): [string, string] {
  return [`model.layers.${l}.post_attention_layernorm`, `model.layers.${l}.post_feedforward_layernorm`];
}

export function finalNormName(config: ModelConfig): string {
  return config.arch === 'gpt2' ? 'transformer.ln_f' : 'model.norm';
}
