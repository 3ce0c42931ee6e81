/**
 * The activation plan of one network, in one place: every activation buffer of a forward (and,
 * when training, of the backward) for B sequences of T tokens, sized up front from (config, B, T,
 * training, adapter, recomputation, head chunk) and labelled `activations.<where>.<name>`. A batch
 * with fewer rows or tokens uses the first B·T rows of the same buffers; a bigger one needs a new
 * plan (Network rebuilds). plan-run.ts adds everything else a run holds (weights, adapter,
 * optimizer, uniforms, readback) for the peak that `tsugiki plan` and the studio show.
 *
 * Keeping everything (recompute = 0): what backward needs is kept per layer (`activations.layerN.*`),
 * the rest shared by the layers (`activations.layers.*`). Kept per layer: the block input resid,
 * norm statistics (rstd, and mean for LayerNorm), q and k after RoPE and v, att (attention output,
 * also the o_proj input), stats (softmax log-sum-exp), mid (the stream after attention), gate/up
 * (SwiGLU backward) or fc (GELU backward), the LoRA h = drop(x)·Aᵀ [N, R] of every adapted
 * projection (each row block of GPT-2's c_attn its own), and the normed inputs n1/n2 and the MLP
 * activation only when an adapted module reads them. With
 * q/k norms (Qwen3, Gemma 3) also q and k before their norm and the norms' rstd per head; with
 * Gemma 3's output norms the o_proj and down_proj outputs and those norms' rstd.
 *
 * Recomputation (recompute = k ≥ 1): only the input of every k-th block is kept (`resid{l}`);
 * backward recomputes the forward of the blocks from the nearest kept input (into two scratch
 * streams `resid.s0/s1`) and then block l's own forward into the shared layer buffers. The same
 * kernels run on the same inputs (LoRA dropout masks are hashed from the step's seed and the
 * element index), so the gradients are bit for bit those of keeping everything.
 *
 * Gradient scratch lives in forward buffers of the layer that are dead by the time it is needed
 * (gradHome): dn in proj, dGate/dUp over gate/up (in-place SwiGLU backward), dAtt in act, dq in
 * dAct, dk/dv in gate/up; recomputing a SwiGLU model, act itself lives in dAct (then dq, dk, dv go
 * to gate, up and mid). The LM head runs over headRows rows at a time (logits [headRows, V]):
 * final norm → logits → cross-entropy forward (and, training, its backward → dX → final norm
 * backward into grad.dResid), so logits never exist for all B·T rows at once.
 */
import type { Gpu } from '../gpu/device.ts';
import { type DType, type Tensor, viewOf } from '../gpu/tensor.ts';
import type { ModelConfig } from './config.ts';
import { layerLinears, layerPrefix, projectionAt } from './modules.ts';
import { splitScratchElements } from '../kernels/matmul.ts';

export interface PlanOptions {
  B: number;
  T: number;
  training: boolean;
  /** LoRA rank, or null without an adapter. */
  rank: number | null;
  /** Full HF names of the adapted modules (`model.layers.0.self_attn.q_proj`, `transformer.h.0.attn.c_attn`). */
  adapted: ReadonlySet<string>;
  /** Training: keep every k-th block input and recompute the rest in backward; 0 keeps every activation. */
  recompute?: number;
  /** Rows of the LM head at once (a multiple of 64, or ≥ B·T); default headChunkRows(V, B·T). */
  headRows?: number;
}

export interface PlannedBuffer {
  key: string;
  label: string;
  bytes: number;
}

/** Where a gradient scratch of the block backward lives: its own buffer, a layer buffer, or another gradient's. */
export type GradHome = { own: true } | { layer: string } | { grad: string };

export interface MemoryPlan {
  B: number;
  T: number;
  training: boolean;
  recompute: number;
  headRows: number;
  buffers: PlannedBuffer[];
  activationBytes: number;
  /** Buffer key of the residual stream entering layer i (i = L: after the last layer). */
  residKeys: string[];
  gradHome: Record<string, GradHome>;
  /** Buffer keys that name another planned buffer (one buffer, two lifetimes that never overlap). */
  aliases: Record<string, string>;
  /** f32 elements of the LoRA split-K workspace grad.split (0 when there is none). */
  splitFloats: number;
}

/**
 * Projection paths inside a block, per architecture (modules.ts layerProjections): q, k, v (GPT-2:
 * the row blocks of attn.c_attn), o, the MLP's input projections and its output projection.
 */
export function blockPaths(config: ModelConfig): { qkv: string[]; o: string; mlpIn: string[]; mlpOut: string } {
  return config.arch === 'gpt2'
    ? { qkv: ['attn.q_proj', 'attn.k_proj', 'attn.v_proj'], o: 'attn.c_proj', mlpIn: ['mlp.c_fc'], mlpOut: 'mlp.c_proj' }
    : { qkv: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'], o: 'self_attn.o_proj', mlpIn: ['mlp.gate_proj', 'mlp.up_proj'], mlpOut: 'mlp.down_proj' };
}

const align16 = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

/** Logits of one head chunk stay under this (a multiple of 64 rows, at least 64). */
export const HEAD_CHUNK_BYTES = 32 * 1024 ** 2;

/** Rows of the LM head at once: N when [N, V] fits HEAD_CHUNK_BYTES, else a multiple of 64 (aligned views). */
export function headChunkRows(V: number, N: number): number {
  const rows = Math.max(64, Math.floor(HEAD_CHUNK_BYTES / (4 * V) / 64) * 64);
  return rows >= N ? N : rows;
}

/** The key of the residual stream entering layer i. */
function residKey(i: number, L: number, training: boolean, k: number): string {
  if (!training) return `resid${i % 2}`;
  if (k === 0 || (i % k === 0 && i < L)) return `resid${i}`;
  return `resid.s${i % 2}`;
}

export function planMemory(config: ModelConfig, o: PlanOptions): MemoryPlan {
  const { B, T, training, rank } = o;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`memory plan: B = ${B} and T = ${T} must be positive whole numbers.`);
  const k = training ? (o.recompute ?? 0) : 0;
  if (!Number.isInteger(k) || k < 0) throw new Error(`memory plan: recompute = ${o.recompute} must be 0 (keep every activation) or a whole number of layers ≥ 1.`);
  const N = B * T;
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I, vocabSize: V, layers: L } = config;
  const R = o.headRows ?? headChunkRows(V, N);
  if (!Number.isInteger(R) || R < 1 || (R < N && R % 64 !== 0)) throw new Error(`memory plan: head rows ${R} must be a multiple of 64 (or at least B·T = ${N}).`);
  const headRows = Math.min(R, N);
  const ln = config.norm === 'layernorm';
  const buffers: PlannedBuffer[] = [];
  const keys = new Set<string>();
  // Recomputing a SwiGLU model, the MLP activation lives in dAct's buffer: the MLP-out backward
  // reads it (LoRA's dA) in the dispatch before the one that writes dAct.
  const aliases: Record<string, string> = training && k > 0 && !ln ? { 'layers.act': 'grad.dAct' } : {};
  const add = (key: string, bytes: number) => {
    if (keys.has(key) || aliases[key]) return;
    keys.add(key);
    buffers.push({ key, label: `activations.${key}`, bytes: align16(bytes) });
  };
  const rows = (key: string, floats: number) => add(key, N * floats * 4);

  for (const name of ['ids', 'positions', 'keyMask', 'targets']) rows(name, 1);
  const residKeys = Array.from({ length: L + 1 }, (_, i) => residKey(i, L, training, k));
  for (const key of residKeys) rows(key, C);
  add('head.x', headRows * C * 4);
  add('head.rstd', headRows * 4);
  if (ln) add('head.mean', headRows * 4);
  add('logits', headRows * V * 4);
  add('head.lse', headRows * 4);
  if (training) add('head.dx', headRows * C * 4);
  rows('tokenLoss', 1);
  add('lossPart', 4);

  const paths = blockPaths(config);
  /** A per-layer buffer when training keeps it, else one buffer shared by all layers. */
  const layerRows = (l: number, name: string, floats: number, keep: boolean) => rows(training && k === 0 && keep ? `layer${l}.${name}` : `layers.${name}`, floats);
  for (let l = 0; l < L; l++) {
    const p = layerPrefix(config, l);
    const adapted = (path: string) => o.adapted.has(p + projectionAt(config, path).module.path);
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
  const gradHome: Record<string, GradHome> = {};
  let splitFloats = 0;
  if (training) {
    /** `home` when the gradient fits in it (`width` columns), else a buffer of its own. */
    const place = (name: string, floats: number, home: GradHome | null, width = I): GradHome => {
      if (home && floats <= width) return home;
      rows(`grad.${name}`, floats);
      return { own: true };
    };
    const actInDAct = 'layers.act' in aliases;
    gradHome.dn = { layer: 'proj' };
    if (ln) gradHome.dFc = { layer: 'act' };
    // Attention backward: the MLP's buffers (and mid, read last by norm2's backward) are dead.
    gradHome.dAtt = place('dAtt', H * D, { layer: 'act' });
    gradHome.dq = place('dq', H * D, actInDAct ? { layer: 'fc' } : { grad: 'dAct' });
    gradHome.dk = place('dk', KV * D, actInDAct ? { layer: 'up' } : { layer: 'fc' });
    // GPT-2 has no up buffer: its dv gets its own.
    gradHome.dv = actInDAct ? place('dv', KV * D, { layer: 'mid' }, C) : place('dv', KV * D, ln ? null : { layer: 'up' });
    for (const [name, floats] of [['dResid', C], ['dAct', I]] as const) {
      rows(`grad.${name}`, floats);
      gradHome[name] = { own: true };
    }
    if (rank !== null) rows('grad.dh', rank);
    // The adapter's thin products split their contractions into this workspace: the widest of
    // h and dh [B·T, R], dA [R, in] and dB [out, R] over the adapted modules.
    if (rank !== null) {
      const widest = Math.max(N, ...layerLinears(config).filter((m) => [...o.adapted].some((n) => n.endsWith(`.${m.path}`))).flatMap((m) => [m.in, m.out]));
      splitFloats = splitScratchElements(widest, rank);
      add('grad.split', splitFloats * 4);
    }
    // q and k before their norms (Qwen3, Gemma 3) and Gemma 3's output-norm gradient: own buffers.
    const own = (name: string, floats: number) => {
      rows(`grad.${name}`, floats);
      gradHome[name] = { own: true };
    };
    if (config.qkNorm) {
      own('dqRaw', H * D);
      own('dkRaw', KV * D);
    }
    if (config.sandwichNorms) own('dPost', C);
  }
  return { B, T, training, recompute: k, headRows, buffers, activationBytes: buffers.reduce((s, b) => s + b.bytes, 0), residKeys, gradHome, aliases, splitFloats };
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

  private buffer(key: string): GPUBuffer {
    const buffer = this.buffers.get(this.plan.aliases[key] ?? key);
    if (!buffer) throw new Error(`activations: '${key}' is not in the memory plan (B=${this.plan.B}, T=${this.plan.T}, training=${this.plan.training}, recompute=${this.plan.recompute}).`);
    return buffer;
  }

  /** The buffer `key` as a tensor of `shape` (its first bytes). */
  get(key: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const buffer = this.buffer(key);
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    key = this.plan.aliases[key] ?? key;
    if (bytes > buffer.size) throw new Error(`activations: '${key}' holds ${buffer.size} bytes but [${shape.join(', ')}] needs ${bytes}; the batch is bigger than the plan.`);
    return { label: `activations.${key}`, shape: [...shape], dtype, buffer };
  }

  /** Rows [r0, r0 + rows) of the [·, cols] buffer `key` (r0·cols·4 must be a multiple of 256). */
  rows(key: string, r0: number, rows: number, cols: number, dtype: DType = 'f32'): Tensor {
    if (r0 === 0) return this.get(key, cols === 1 ? [rows] : [rows, cols], dtype);
    return viewOf(this.buffer(key), `activations.${key}[${r0}:${r0 + rows}]`, cols === 1 ? [rows] : [rows, cols], dtype, r0 * cols * 4);
  }

  /** Layer l's own buffer when the plan keeps one, else the one shared by all layers. */
  layer(l: number, name: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.get(this.buffers.has(`layer${l}.${name}`) ? `layer${l}.${name}` : `layers.${name}`, shape, dtype);
  }

  /** Gradient scratch `name` of layer l's backward, wherever the plan put it (gradHome). */
  grad(l: number, name: string, shape: readonly number[]): Tensor {
    const home = this.plan.gradHome[name];
    if (!home) throw new Error(`activations: gradient '${name}' has no place in the memory plan (training=${this.plan.training}).`);
    if ('layer' in home) return this.layer(l, home.layer, shape);
    return this.get(`grad.${'grad' in home ? home.grad : name}`, shape);
  }

  /** The residual stream entering layer i (i = L: after the last layer). */
  resid(i: number, shape: readonly number[]): Tensor {
    return this.get(this.plan.training ? this.plan.residKeys[i] : `resid${i % 2}`, shape);
  }

  destroy(): void {
    for (const b of this.buffers.values()) this.gpu.pool.release(b);
    this.buffers.clear();
  }
}
