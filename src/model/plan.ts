/**
 * The memory plan of one network, in one place: every activation buffer of a forward (and, when
 * training, of the backward) for B sequences of T tokens, sized up front from (config, B, T,
 * training, adapter) and labelled `activations.<where>.<name>`. A batch with fewer rows or tokens
 * uses the first B·T rows of the same buffers; a bigger one needs a new plan (Network rebuilds).
 *
 * What backward needs is kept per layer (`activations.layerN.*`); everything else is shared by the
 * layers (`activations.layers.*`). Kept per layer when training:
 *   resid (the block input; RMSNorm/LayerNorm backward reads x), norm statistics (rstd, and mean
 *   for LayerNorm), q and k after RoPE and v (attention backward), att (attention output, also the
 *   o_proj input), stats (softmax log-sum-exp), mid (the stream after attention), gate/up (SwiGLU
 *   backward) or fc (GELU backward), the LoRA h = drop(x)·Aᵀ [N, R] of every adapted module, and
 *   the normed inputs n1/n2 and the MLP activation only when an adapted module reads them (LoRA's
 *   dA needs its input x; a frozen linear's input gradient does not). With q/k norms (Qwen3,
 *   Gemma 3) also q and k before their norm and the norms' rstd per head; with Gemma 3's output
 *   norms the o_proj and down_proj outputs and those norms' rstd.
 * Nothing is recomputed: the kept tensors are the forward's own, so backward is exact.
 */
import type { Gpu } from '../gpu/device.ts';
import { type DType, type Tensor } from '../gpu/tensor.ts';
import type { ModelConfig } from './config.ts';
import { layerPrefix } from './modules.ts';

export interface PlanOptions {
  B: number;
  T: number;
  training: boolean;
  /** LoRA rank, or null without an adapter. */
  rank: number | null;
  /** Full HF names of the adapted modules (`model.layers.0.self_attn.q_proj`). */
  adapted: ReadonlySet<string>;
}

export interface PlannedBuffer {
  key: string;
  label: string;
  bytes: number;
}

export interface MemoryPlan {
  B: number;
  T: number;
  training: boolean;
  buffers: PlannedBuffer[];
  activationBytes: number;
}

/** Module paths inside a block, per architecture: [q/k/v input, o input, MLP-in input, MLP-out input]. */
export function blockPaths(config: ModelConfig): { qkv: string[]; o: string; mlpIn: string[]; mlpOut: string } {
  return config.arch === 'gpt2'
    ? { qkv: ['attn.c_attn'], o: 'attn.c_proj', mlpIn: ['mlp.c_fc'], mlpOut: 'mlp.c_proj' }
    : { qkv: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'], o: 'self_attn.o_proj', mlpIn: ['mlp.gate_proj', 'mlp.up_proj'], mlpOut: 'mlp.down_proj' };
}

const align16 = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

export function planMemory(config: ModelConfig, o: PlanOptions): MemoryPlan {
  const { B, T, training, rank } = o;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`memory plan: B = ${B} and T = ${T} must be positive whole numbers.`);
  const N = B * T;
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I, vocabSize: V, layers: L } = config;
  const ln = config.norm === 'layernorm';
  const buffers: PlannedBuffer[] = [];
  const add = (key: string, bytes: number) => buffers.push({ key, label: `activations.${key}`, bytes: align16(bytes) });
  const rows = (key: string, floats: number) => add(key, N * floats * 4);

  for (const name of ['ids', 'positions', 'keyMask', 'targets']) rows(name, 1);
  for (let i = 0; i < (training ? L + 1 : 2); i++) rows(`resid${i}`, C);
  rows('final.x', C);
  rows('final.rstd', 1);
  if (ln) rows('final.mean', 1);
  rows('logits', V);
  rows('lse', 1);
  rows('tokenLoss', 1);
  add('lossPart', 4);

  const paths = blockPaths(config);
  const shared = new Set<string>();
  /** A per-layer buffer when training and kept, else one buffer shared by all layers. */
  const layerRows = (l: number, name: string, floats: number, keep: boolean) => {
    if (training && keep) rows(`layer${l}.${name}`, floats);
    else if (!shared.has(name)) {
      shared.add(name);
      rows(`layers.${name}`, floats);
    }
  };
  for (let l = 0; l < L; l++) {
    const p = layerPrefix(config, l);
    const adapted = (path: string) => o.adapted.has(p + path);
    layerRows(l, 'rstd1', 1, true);
    layerRows(l, 'rstd2', 1, true);
    if (ln) {
      layerRows(l, 'mean1', 1, true);
      layerRows(l, 'mean2', 1, true);
    }
    layerRows(l, 'n1', C, paths.qkv.some(adapted));
    layerRows(l, 'q', H * D, true);
    layerRows(l, 'k', KV * D, true);
    layerRows(l, 'v', KV * D, true);
    layerRows(l, 'att', H * D, true);
    layerRows(l, 'stats', 2 * H, true);
    layerRows(l, 'proj', C, false);
    layerRows(l, 'mid', C, true);
    layerRows(l, 'n2', C, paths.mlpIn.some(adapted));
    layerRows(l, 'fc', I, true);
    if (!ln) layerRows(l, 'up', I, true);
    layerRows(l, 'act', I, adapted(paths.mlpOut));
    if (config.qkNorm) {
      for (const [name, floats] of [['qRaw', H * D], ['kRaw', KV * D], ['rstdQ', H], ['rstdK', KV]] as const) layerRows(l, name, floats, true);
    }
    if (config.sandwichNorms) {
      for (const [name, floats] of [['attnOut', C], ['mlpOut', C], ['rstdPostAttn', 1], ['rstdPostMlp', 1]] as const) layerRows(l, name, floats, true);
    }
    for (const path of [...paths.qkv, paths.o, ...paths.mlpIn, paths.mlpOut]) {
      if (adapted(path) && rank !== null) layerRows(l, `h.${path}`, rank, true);
    }
  }
  const gpt2Qkv = config.arch === 'gpt2' && rank !== null && [...o.adapted].some((m) => m.endsWith('.attn.c_attn'));
  if (gpt2Qkv) for (const part of ['bq', 'bk', 'bv']) add(`lora.${part}`, C * rank! * 4);
  if (training) {
    for (const [name, floats] of [['dResid', C], ['dn', C], ['dAtt', H * D], ['dq', H * D], ['dk', KV * D], ['dv', KV * D], ['dAct', I], ['dFc', I], ['dUp', I]] as const) {
      rows(`grad.${name}`, floats);
    }
    if (rank !== null) rows('grad.dh', rank);
    if (config.qkNorm) {
      rows('grad.dqRaw', H * D);
      rows('grad.dkRaw', KV * D);
    }
    if (config.sandwichNorms) rows('grad.dPost', C);
    if (gpt2Qkv) {
      for (const part of ['dbq', 'dbk', 'dbv']) add(`lora.${part}`, C * rank! * 4);
      add('lora.db3', 3 * C * rank! * 4);
    }
  }
  return { B, T, training, buffers, activationBytes: buffers.reduce((s, b) => s + b.bytes, 0) };
}

/** The planned buffers, allocated; tensors of the current batch's shape are views of their start. */
export class Activations {
  private readonly buffers = new Map<string, GPUBuffer>();

  constructor(
    private readonly gpu: Gpu,
    readonly plan: MemoryPlan,
  ) {
    for (const b of plan.buffers) this.buffers.set(b.key, gpu.pool.alloc(b.label, b.bytes));
  }

  /** The buffer `key` as a tensor of `shape` (its first bytes). */
  get(key: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const buffer = this.buffers.get(key);
    if (!buffer) throw new Error(`activations: '${key}' is not in the memory plan (B=${this.plan.B}, T=${this.plan.T}, training=${this.plan.training}).`);
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    if (bytes > buffer.size) throw new Error(`activations: '${key}' holds ${buffer.size} bytes but [${shape.join(', ')}] needs ${bytes}; the batch is bigger than the plan.`);
    return { label: `activations.${key}`, shape: [...shape], dtype, buffer };
  }

  /** Layer l's own buffer when the plan keeps one, else the one shared by all layers. */
  layer(l: number, name: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.get(this.buffers.has(`layer${l}.${name}`) ? `layer${l}.${name}` : `layers.${name}`, shape, dtype);
  }

  /** The residual stream entering layer i (i = L: after the last layer). */
  resid(i: number, shape: readonly number[]): Tensor {
    return this.get(this.plan.training ? `resid${i}` : `resid${i % 2}`, shape);
  }

  destroy(): void {
    for (const b of this.buffers.values()) this.gpu.pool.release(b);
    this.buffers.clear();
  }
}
