/**
 * Which linear modules of a model LoRA can adapt, and their shapes. Names are Hugging Face
 * module paths (`model.layers.3.self_attn.q_proj`, `transformer.h.0.attn.c_attn`), so they are
 * also the PEFT state-dict names minus the `base_model.model.` prefix.
 *
 * A module maps K input features to N output features; its LoRA pair is A: [R, K], B: [N, R].
 * The modules come from src/model/modules.ts `layerLinears`.
 */
import type { ModelConfig } from '../model/config.ts';
import { layerLinears, layerPrefix } from '../model/modules.ts';

/** The part of a model's config the adapter needs: C, L, H, KV, D, I (GPT-2: I is the MLP width, 4C by default). */
export type LoraModelShape = Pick<ModelConfig, 'arch' | 'hidden' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'intermediate'>;

/** One linear module inside a transformer block, relative to the block. */
export interface BlockModule {
  /** Path inside the block, e.g. `self_attn.q_proj`, `mlp.c_proj`. */
  module: string;
  inFeatures: number;
  outFeatures: number;
  /** GPT-2's Conv1D: checkpoints store the weight as [in, out], not nn.Linear's [out, in] (PEFT's fan_in_fan_out). */
  fanInFanOut: boolean;
  /** A fused module's row blocks (GPT-2's c_attn: C, C, C output rows), each a projection on the GPU with its own block of B. */
  blockRows?: number[];
}

export interface AdapterModule extends BlockModule {
  /** Full HF module path, e.g. `model.layers.3.self_attn.q_proj`. */
  name: string;
  layer: number;
}

/** Every linear module of one block, in forward order; 'all-linear' is all of these (lm_head is never a block module). */
export function blockModules(m: LoraModelShape): BlockModule[] {
  return layerLinears(m).map((l) => ({
    module: l.path, inFeatures: l.in, outFeatures: l.out, fanInFanOut: m.arch === 'gpt2',
    ...(l.blocks ? { blockRows: l.blocks.map((b) => b.out) } : {}),
  }));
}

/** The last path component, PEFT's usual target name (`q_proj`, `c_proj`). */
export function shortName(module: string): string {
  return module.slice(module.lastIndexOf('.') + 1);
}

/**
 * Target names the arch accepts: each module's short name (`q_proj`; GPT-2's `c_proj` names both
 * attn.c_proj and mlp.c_proj, as in PEFT) and its block path (`self_attn.q_proj`, `mlp.c_proj`).
 */
export function targetNames(arch: LoraModelShape['arch']): string[] {
  const modules = blockModules({ arch, hidden: 1, layers: 1, heads: 1, kvHeads: 1, headDim: 1, intermediate: 1 });
  const names = new Set<string>();
  for (const b of modules) names.add(shortName(b.module));
  for (const b of modules) names.add(b.module);
  return [...names];
}

/** PEFT's suffix rule: a target matches a module whose path is the target or ends with `.target`. */
export function targetMatches(target: string, module: string): boolean {
  return module === target || module.endsWith(`.${target}`);
}

/** The adapted modules, ordered by layer then forward order within the block. */
export function adapterModules(
  m: LoraModelShape,
  cfg: { targets: string[] | 'all-linear'; layers: number[] | null },
): AdapterModule[] {
  const block = blockModules(m).filter(
    (b) => cfg.targets === 'all-linear' || cfg.targets.some((t) => targetMatches(t, b.module)),
  );
  const layers = cfg.layers ?? Array.from({ length: m.layers }, (_, i) => i);
  const out: AdapterModule[] = [];
  for (const layer of [...new Set(layers)].sort((a, b) => a - b)) {
    for (const b of block) out.push({ ...b, name: layerPrefix(m, layer) + b.module, layer });
  }
  return out;
}

/** Σ R·(K + N): the trainable parameter count. */
export function trainableParams(modules: readonly { inFeatures: number; outFeatures: number }[], rank: number): number {
  let n = 0;
  for (const mod of modules) n += rank * (mod.inFeatures + mod.outFeatures);
  return n;
}

const PEFT_PREFIX = 'base_model.model.';

/** The PEFT state-dict key of a module's A or B matrix (no adapter name, as saved files have it). */
export function peftKey(moduleName: string, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${moduleName}.lora_${which}.weight`;
}

/**
 * Exact size in bytes of the f32 `adapter_model.safetensors` for these modules: header as
 * src/io/safetensors.ts writes it (sorted by name, `{"format":"pt"}` metadata, padded to 8) plus data.
 */
export function adapterFileBytes(modules: readonly AdapterModule[], rank: number): number {
  const tensors: { name: string; shape: number[] }[] = [];
  for (const mod of modules) {
    tensors.push({ name: peftKey(mod.name, 'A'), shape: [rank, mod.inFeatures] });
    tensors.push({ name: peftKey(mod.name, 'B'), shape: [mod.outFeatures, rank] });
  }
  tensors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let header = '{"__metadata__":{"format":"pt"}';
  let offset = 0;
  for (const t of tensors) {
    const end = offset + 4 * t.shape[0] * t.shape[1];
    header += `,${JSON.stringify(t.name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`;
    offset = end;
  }
  header += '}';
  const headerLen = Math.ceil(new TextEncoder().encode(header).length / 8) * 8;
  return 8 + headerLen + offset;
}
