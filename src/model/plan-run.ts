/**
 * The memory plan of a whole training run (or an inference network), from the config alone: every
 * buffer the pool will hold, by owner, as the engine allocates it. The studio's estimate and its
 * "fits this GPU" verdict, `tsugiki plan`, `tsugiki train`'s recomputation choice and the bench all
 * read this one plan; tests/model/plan-run.test.ts holds it to a real step's pool peak.
 *
 *   weights      every frozen tensor in its own dtype (f32/f16/bf16, or ggml blocks for quantized
 *                ones: rows · ⌈cols / block⌉ · block bytes), linear biases widened to f32, a fused
 *                tensor (GPT-2's c_attn) with its row blocks 256-byte aligned, a tied head counted once;
 *   adapter      LoRA params and grads (f32, the layout's padded length P);
 *   train        AdamW m and v (P each), the gradient-norm partials, norm, clip, the step guard's
 *                halt flag, the trainer's best adapter (P);
 *   loss         the loss sum;
 *   activations  plan.ts's buffers for (B, T) plus the step inputs' staging (16 bytes a token per
 *                micro-batch);
 *   uniforms     the step recorder's uniform buffer: 256 bytes a dispatch (plan-dispatches.ts);
 *   readback     the trainer's metrics ring: READBACK_RING_SLOTS mapped buffers of loss sum and norm.
 * Validation (forward-only steps between training steps) reuses these buffers; its own recorder
 * and token-loss scratch are not counted.
 */
import { GGML_BF16, GGML_F16, GGML_F32, GGML_TYPES, QUANT_TYPE_IDS } from '../io/ggml-types.ts';
import { planRowBlocks, planRowWindows } from './gpu-weights.ts';
import { gradNormPartials } from '../kernels/grad-norm.ts';
import { READBACK_RING_SLOTS } from '../gpu/readback-ring.ts';
import { UNIFORM_ALIGN, uniformBufferBytes } from '../gpu/recorder.ts';
import { planAdapterLayout } from '../lora/layout.ts';
import { adapterModules } from '../lora/modules.ts';
import type { ModelConfig } from './config.ts';
import type { WeightSource } from './weights.ts';
import { expectedTensors, fusedTensors, layerLinears, layerPrefix } from './modules.ts';
import { OPTIMIZER_DISPATCHES, stepDispatches } from './plan-dispatches.ts';
import { planMemory, type MemoryPlan } from './plan.ts';

/**
 * A frozen weight bigger than one storage binding is stored in row windows (gpu-weights.ts), which
 * the matmul and embedding kernels loop over: the binding limit does not apply to weights.
 */
export const WEIGHTS_SPLIT_ACROSS_BINDINGS = true;

/** Bytes a page can count on from most laptop GPUs (browsers do not say how much a GPU has). */
export const DEFAULT_GPU_BUDGET_BYTES = 4 * 1024 ** 3;

/**
 * 'source': every weight as stored; '4bit': as src/model/quantize-base.ts quantizes at load: the
 * blocks' linear weights in Q4_K, the embeddings (and an untied head) in Q6_K, norms as stored.
 */
export type BaseWeights = 'source' | '4bit';

export const GGML_Q4_K = 12;
const GGML_Q5_0 = 6;
const GGML_Q6_K = 14;
const GGML_Q8_0 = 8;
const EMBEDDING = /(^|\.)(embed_tokens|wte)\.weight$|^lm_head\.weight$/;
const LINEAR_BIAS = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|c_attn|c_proj|c_fc)\.bias$/;

export interface RunPlanOptions {
  /** B, T */
  batchSize: number;
  seqLen: number;
  training: boolean;
  /** Micro-batches recorded per optimizer step (each stages its own inputs). */
  gradAccum?: number;
  adapter: { rank: number; targets: string[] | 'all-linear'; layers: number[] | null } | null;
  optimizer?: 'adamw' | 'sgd';
  /**
   * Keep every k-th block input (0: every activation); 'auto': the least recomputation that fits
   * (none when everything fits); 'on': recompute, with the smallest k ≥ 1 that fits.
   */
  recompute?: number | 'auto' | 'on';
  /** 'auto' and the verdict compare with these (default DEFAULT_GPU_BUDGET_BYTES, no binding limit). */
  budgetBytes?: number;
  maxBindingBytes?: number;
  base?: BaseWeights;
  /** The ggml type id of each stored tensor, from the model's files; default: the config's torch_dtype. */
  weightType?: (name: string) => number;
  headRows?: number;
  /** The adapter's kernel for long contractions (Gpu.longMatmul); it decides which thin products split. Default 'tiled'. */
  longMatmul?: 'tiled' | 'direct';
}

export interface PlannedOwnerBuffer {
  label: string;
  bytes: number;
}

export interface RunPlan {
  /** Bytes by owner (the label before the first dot, as BufferPool.byOwner counts). */
  owners: Record<string, number>;
  peakBytes: number;
  buffers: PlannedOwnerBuffer[];
  /** The biggest buffer that must fit one storage binding. */
  largest: PlannedOwnerBuffer;
  activations: MemoryPlan;
  recompute: number;
  adapterFloats: number;
  dispatches: number;
  /** Whether peakBytes and the largest buffer fit the budget and binding limit. */
  fits: boolean;
}

const align16 = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

/** The ggml type id of a config's torch_dtype. */
export function torchDtypeType(torchDtype: string): number {
  if (/bfloat16|bf16/i.test(torchDtype)) return GGML_BF16;
  if (/float16|f16|half/i.test(torchDtype)) return GGML_F16;
  return GGML_F32;
}

/** Bytes of a [rows, cols] tensor (or [n]) of ggml type `type`: whole blocks per row. */
export function ggmlBytes(type: number, shape: readonly number[]): number {
  const t = GGML_TYPES.get(type);
  if (!t) throw new Error(`memory plan: unknown ggml type id ${type}.`);
  const cols = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return rows * Math.ceil(cols / t.blockSize) * t.typeSize;
}

/**
 * quantize-base.ts's choice for a weight of `cols` columns: Q4_K (embeddings Q6_K) for rows of
 * whole 256-blocks, Q5_0 (embeddings Q8_0) for whole 32-blocks, else as stored. It switches a
 * weight to Q6_K / Q8_0 when Q4_K / Q5_0 measure a large error on it; the plan assumes they do not.
 */
function fourBitType(name: string, cols: number, stored: number): number {
  const embedding = EMBEDDING.test(name);
  if (cols % 256 === 0) return embedding ? GGML_Q6_K : GGML_Q4_K;
  if (cols % 32 === 0) return embedding ? GGML_Q8_0 : GGML_Q5_0;
  return stored;
}

/** The frozen weights as uploadWeights lays them out, one entry per GPU buffer. */
export function planWeights(config: ModelConfig, o: { base?: BaseWeights; weightType?: (name: string) => number; maxBindingBytes?: number } = {}): PlannedOwnerBuffer[] {
  const stored = o.weightType ?? (() => torchDtypeType(config.torchDtype));
  const linear = new Set<string>();
  for (let l = 0; l < config.layers; l++) for (const m of layerLinears(config)) linear.add(`${layerPrefix(config, l)}${m.path}.weight`);
  const fused = fusedTensors(config);
  const out: PlannedOwnerBuffer[] = [];
  for (const [name, shape] of expectedTensors(config)) {
    const label = `weights.${name}`;
    let type = stored(name);
    const widen = LINEAR_BIAS.test(name) || (shape.length === 1 && isQuantizedType(type));
    if (widen) type = GGML_F32;
    else if (o.base === '4bit' && shape.length === 2 && (linear.has(name) || EMBEDDING.test(name)) && !isQuantizedType(type)) type = fourBitType(name, shape[1], type);
    const bytes = ggmlBytes(type, shape);
    const blocks = fused.get(name);
    if (blocks) {
      // One buffer, its row blocks 256-byte aligned (gpu-weights.ts uploadBlocks).
      out.push({ label, bytes: align16(planRowBlocks(blocks.map((b) => (b.rows * bytes) / shape[0])).bytes) });
      continue;
    }
    if (!widen && o.maxBindingBytes !== undefined && bytes > o.maxBindingBytes && shape.length === 2) {
      // Row windows, each its own buffer (gpu-weights.ts uploadWeight).
      const rowBytes = bytes / shape[0];
      for (const [, n] of planRowWindows(shape[0], rowBytes, o.maxBindingBytes)) out.push({ label, bytes: align16(n * rowBytes) });
      continue;
    }
    out.push({ label, bytes: align16(bytes) });
  }
  return out;
}

const isQuantizedType = (type: number) => type !== GGML_F32 && type !== GGML_F16 && type !== GGML_BF16;

const GGML_OF: Record<string, number> = { f32: GGML_F32, f16: GGML_F16, bf16: GGML_BF16, ...QUANT_TYPE_IDS };

/** The ggml type id of each stored tensor of a checkpoint (f32/f16/bf16 or a quantized block type). */
export function weightTypeOf(source: WeightSource): (name: string) => number {
  return (name) => {
    const dtype = source.info(name).dtype;
    const id = GGML_OF[dtype];
    if (id === undefined) throw new Error(`memory plan: ${source.source}: tensor '${name}' has dtype ${dtype}, which the plan does not size.`);
    return id;
  };
}

/** The adapter's flat length P (0 without an adapter). */
export function adapterFloats(config: ModelConfig, adapter: RunPlanOptions['adapter']): { floats: number; adapted: Set<string> } {
  if (!adapter) return { floats: 0, adapted: new Set() };
  const modules = adapterModules(config, adapter);
  if (modules.length === 0) return { floats: 0, adapted: new Set() };
  const layout = planAdapterLayout(modules, adapter.rank);
  return { floats: layout.totalFloats, adapted: new Set(layout.entries.map((e) => e.name)) };
}

function planWith(config: ModelConfig, o: RunPlanOptions, recompute: number): RunPlan {
  const B = o.batchSize;
  const T = o.seqLen;
  const N = B * T;
  const accum = o.training ? (o.gradAccum ?? 1) : 1;
  const { floats: P, adapted } = adapterFloats(config, o.adapter);
  const rank = o.adapter && P > 0 ? o.adapter.rank : null;
  const acts = planMemory(config, { B, T, training: o.training, rank, adapted, recompute, headRows: o.headRows });
  const buffers: PlannedOwnerBuffer[] = [...planWeights(config, { ...o, maxBindingBytes: o.maxBindingBytes === Infinity ? undefined : o.maxBindingBytes })];
  const add = (label: string, bytes: number) => buffers.push({ label, bytes: align16(bytes) });
  if (P > 0) add('adapter.params', 4 * P);
  if (o.training && P > 0) {
    add('adapter.grads', 4 * P);
    if ((o.optimizer ?? 'adamw') === 'adamw') {
      add('train.adam_m', 4 * P);
      add('train.adam_v', 4 * P);
    }
    add('train.norm_partials', 4 * gradNormPartials(P));
    add('train.grad_norm', 4);
    add('train.clip', 4);
    add('train.halted', 4);
    add('train.best', 4 * P);
    for (let i = 0; i < READBACK_RING_SLOTS; i++) add('readback.train.metrics', 8);
  }
  add('loss.sum', 4);
  for (const b of acts.buffers) buffers.push({ label: b.label, bytes: b.bytes });
  for (let i = 0; i < accum; i++) add('activations.inputs', 16 * N);
  const headChunks = Math.ceil(N / acts.headRows);
  const split = o.training && rank !== null ? { rows: N, rank, floats: acts.splitFloats, long: o.longMatmul ?? 'tiled' } : undefined;
  const perStep = stepDispatches(config, { adapted, training: o.training, recompute: acts.recompute, headChunks, split });
  const dispatches = accum * perStep + (o.training ? OPTIMIZER_DISPATCHES : 0);
  add('uniforms.step', uniformBufferBytes(dispatches * UNIFORM_ALIGN));
  const owners: Record<string, number> = {};
  for (const b of buffers) {
    const owner = b.label.slice(0, b.label.indexOf('.'));
    owners[owner] = (owners[owner] ?? 0) + b.bytes;
  }
  const peakBytes = buffers.reduce((s, b) => s + b.bytes, 0);
  const bound = WEIGHTS_SPLIT_ACROSS_BINDINGS ? buffers.filter((b) => !b.label.startsWith('weights.')) : buffers;
  const largest = bound.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const fits = peakBytes <= (o.budgetBytes ?? DEFAULT_GPU_BUDGET_BYTES) && largest.bytes <= (o.maxBindingBytes ?? Infinity);
  return { owners, peakBytes, buffers, largest, activations: acts, recompute: acts.recompute, adapterFloats: P, dispatches, fits };
}

/**
 * The run's plan. recompute 'auto' keeps every activation when the peak fits the budget, else
 * picks the smallest interval k ≥ 1 whose peak fits (a larger k keeps fewer block inputs but
 * recomputes more blocks); when none does, k = 1 (and fits is false). A buffer over the binding
 * limit is not helped by recomputation and does not change the choice.
 */
export function planRun(config: ModelConfig, o: RunPlanOptions): RunPlan {
  const r = o.recompute ?? 'auto';
  if (!o.training) return planWith(config, o, 0);
  if (typeof r === 'number') return planWith(config, o, r);
  const budget = o.budgetBytes ?? DEFAULT_GPU_BUDGET_BYTES;
  const first = planWith(config, o, r === 'auto' ? 0 : 1);
  if (first.peakBytes <= budget) return first;
  for (let k = 1; k <= config.layers; k++) {
    const p = planWith(config, o, k);
    if (p.peakBytes <= budget) return p;
  }
  return planWith(config, o, 1);
}
