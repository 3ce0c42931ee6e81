/**
 * The modules and tensors of each architecture, in Hugging Face names and `[out, in]` layout:
 * what LoRA can target, what a checkpoint must contain, and how many parameters it has.
 */
import type { ModelConfig } from './config.ts';

export interface LinearModule {
  /** Path inside a layer, e.g. `self_attn.q_proj` or `attn.c_attn`. */
  path: string;
  /** The last name component, which PEFT's `target_modules` matches (`q_proj`, `c_proj`). */
  suffix: string;
  kind: 'attention' | 'mlp';
  out: number;
  in: number;
  bias: boolean;
  /**
   * A fused module's row blocks, in order, each run as a projection of its own: GPT-2's
   * `attn.c_attn` [3C, C] is `attn.q_proj`, `attn.k_proj`, `attn.v_proj` (C rows each). The
   * checkpoint and the adapter know only the fused module; absent, the module is one projection.
   */
  blocks?: { path: string; out: number }[];
}

/** A linear map a block runs: a whole module, or one row block of a fused module. */
export interface Projection {
  /** Path inside a layer: `self_attn.q_proj`, or GPT-2's `attn.q_proj` (a row block of `attn.c_attn`). */
  path: string;
  /** The module it belongs to (the name the checkpoint and the adapter use). */
  module: LinearModule;
  /** Which row block of the module (0 for a whole module). */
  block: number;
}

/** Prefix of layer l's tensors: `model.layers.l.` (llama family) or `transformer.h.l.` (GPT-2). */
export function layerPrefix(config: Pick<ModelConfig, 'arch'>, l: number): string {
  return config.arch === 'gpt2' ? `transformer.h.${l}.` : `model.layers.${l}.`;
}

type LinearShape = Pick<ModelConfig, 'arch' | 'hidden' | 'heads' | 'kvHeads' | 'headDim' | 'intermediate'> &
  Partial<Pick<ModelConfig, 'qkvBias' | 'attnOutBias' | 'mlpBias'>>;

/**
 * The linear layers of one block. GPT-2's `attn.c_attn` is q, k and v fused along the output
 * ([3C, C], q rows first); GPT-2's `attn.c_proj` and `mlp.c_proj` share the suffix `c_proj`.
 */
export function layerLinears(config: LinearShape): LinearModule[] {
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I } = config;
  const lin = (path: string, kind: LinearModule['kind'], out: number, inp: number, bias: boolean): LinearModule => ({
    path, suffix: path.slice(path.lastIndexOf('.') + 1), kind, out, in: inp, bias,
  });
  if (config.arch === 'gpt2') {
    return [
      { ...lin('attn.c_attn', 'attention', 3 * C, C, true), blocks: ['q', 'k', 'v'].map((x) => ({ path: `attn.${x}_proj`, out: C })) },
      lin('attn.c_proj', 'attention', C, C, true),
      lin('mlp.c_fc', 'mlp', I, C, true),
      lin('mlp.c_proj', 'mlp', C, I, true),
    ];
  }
  return [
    lin('self_attn.q_proj', 'attention', H * D, C, !!config.qkvBias),
    lin('self_attn.k_proj', 'attention', KV * D, C, !!config.qkvBias),
    lin('self_attn.v_proj', 'attention', KV * D, C, !!config.qkvBias),
    lin('self_attn.o_proj', 'attention', C, H * D, !!config.attnOutBias),
    lin('mlp.gate_proj', 'mlp', I, C, !!config.mlpBias),
    lin('mlp.up_proj', 'mlp', I, C, !!config.mlpBias),
    lin('mlp.down_proj', 'mlp', C, I, !!config.mlpBias),
  ];
}

/** The projections of one block: every module, a fused one as its row blocks. */
export function layerProjections(config: LinearShape): Projection[] {
  return layerLinears(config).flatMap((module) =>
    (module.blocks ?? [{ path: module.path }]).map((b, block) => ({ path: b.path, module, block })));
}

/** The projection at `path` inside a layer (`self_attn.q_proj`, GPT-2's `attn.q_proj`). */
export function projectionAt(config: LinearShape, path: string): Projection {
  const p = layerProjections(config).find((x) => x.path === path);
  if (!p) throw new Error(`${config.arch} blocks have no projection '${path}' (they have ${layerProjections(config).map((x) => x.path).join(', ')}).`);
  return p;
}

/**
 * The fused tensors of a checkpoint and their row blocks: `transformer.h.0.attn.c_attn.weight`
 * [3C, C] → `transformer.h.0.attn.q_proj.weight` [C, C], … (biases likewise), rows in order.
 */
export function fusedTensors(config: ModelConfig): Map<string, { name: string; rows: number }[]> {
  const out = new Map<string, { name: string; rows: number }[]>();
  for (let l = 0; l < config.layers; l++) {
    const p = layerPrefix(config, l);
    for (const m of layerLinears(config)) {
      if (!m.blocks) continue;
      for (const part of m.bias ? ['weight', 'bias'] : ['weight']) {
        out.set(`${p}${m.path}.${part}`, m.blocks.map((b) => ({ name: `${p}${b.path}.${part}`, rows: b.out })));
      }
    }
  }
  return out;
}

/** Module names LoRA can target (PEFT `target_modules` suffixes), in layer order, unique. */
export function loraTargets(config: ModelConfig): string[] {
  return [...new Set(layerLinears(config).map((m) => m.suffix))];
}

/**
 * Every tensor a checkpoint of this config holds, name → HF shape ([out, in] for linear weights,
 * GPT-2 Conv1D weights included after their transposition at load). `lm_head.weight` is listed
 * only when the embeddings are not tied.
 */
export function expectedTensors(config: ModelConfig): Map<string, number[]> {
  const { hidden: C, vocabSize: V, layers: L } = config;
  const out = new Map<string, number[]>();
  const norm = (name: string) => {
    out.set(`${name}.weight`, [C]);
    if (config.norm === 'layernorm') out.set(`${name}.bias`, [C]);
  };
  if (config.arch === 'gpt2') {
    out.set('transformer.wte.weight', [V, C]);
    out.set('transformer.wpe.weight', [config.maxPositions, C]);
  } else {
    out.set('model.embed_tokens.weight', [V, C]);
  }
  for (let l = 0; l < L; l++) {
    const p = layerPrefix(config, l);
    norm(config.arch === 'gpt2' ? `${p}ln_1` : `${p}input_layernorm`);
    norm(config.arch === 'gpt2' ? `${p}ln_2` : `${p}post_attention_layernorm`);
    if (config.sandwichNorms) {
      norm(`${p}pre_feedforward_layernorm`);
      norm(`${p}post_feedforward_layernorm`);
    }
    if (config.qkNorm) {
      out.set(`${p}self_attn.q_norm.weight`, [config.headDim]);
      out.set(`${p}self_attn.k_norm.weight`, [config.headDim]);
    }
    for (const m of layerLinears(config)) {
      out.set(`${p}${m.path}.weight`, [m.out, m.in]);
      if (m.bias) out.set(`${p}${m.path}.bias`, [m.out]);
    }
  }
  norm(config.arch === 'gpt2' ? 'transformer.ln_f' : 'model.norm');
  if (!config.tieWordEmbeddings) out.set('lm_head.weight', [V, C]);
  return out;
}

/** Number of parameters (tied embeddings counted once), as `model.num_parameters()` reports. */
export function parameterCount(config: ModelConfig): number {
  let n = 0;
  for (const shape of expectedTensors(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
