/**
 * Export to Hugging Face PEFT's on-disk LoRA format, which PEFT, vLLM and llama.cpp's
 * convert_lora_to_gguf.py load unchanged:
 *
 *   adapter_config.json        LoraConfig.to_dict(), written as json.dumps(indent=2, sort_keys=True)
 *   adapter_model.safetensors  base_model.model.<module path>.lora_A.weight [R, K] and
 *                              .lora_B.weight [N, R], f32, metadata {"format": "pt"}
 *
 * PEFT keeps lora_A/lora_B as nn.Linear weights even for GPT-2's Conv1D (fan_in_fan_out only
 * transposes the merged delta), so A is [R, K] and B is [N, R] for every architecture.
 */
import { writeSafetensors, type SafeTensorInput } from '../io/safetensors.ts';
import type { AdapterConfig } from './config.ts';
import { readSlot, type AdapterLayout } from './layout.ts';
import { blockModules, peftKey, shortName, type LoraModelShape } from './modules.ts';
import { PyFloat, pyJsonDumps, type PyJson } from './pyjson.ts';

/** The PEFT release whose adapter_config.json key set (defaults included) is written here. */
export const PEFT_FORMAT_VERSION = '0.19.1';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** `target_modules` as PEFT saves it: 'all-linear' is expanded to the module names it matched. */
export function peftTargetModules(cfg: Pick<AdapterConfig, 'targets'>, arch: LoraModelShape['arch']): string[] {
  const names = cfg.targets === 'all-linear'
    ? blockModules({ arch, hidden: 1, layers: 1, heads: 1, kvHeads: 1, headDim: 1, intermediate: 1 }).map((b) => shortName(b.module))
    : cfg.targets;
  return [...new Set(names)].sort();
}

/** LoraConfig.to_dict() for these settings: every key recent PEFT writes, non-LoRA options at their defaults. */
export function peftAdapterConfig(cfg: AdapterConfig, arch: LoraModelShape['arch']): { [key: string]: PyJson } {
  return {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: cfg.baseModel ?? null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: arch === 'gpt2',
    inference_mode: true,
    init_lora_weights: cfg.init === 'gaussian' ? 'gaussian' : true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: cfg.layers === null ? null : [...new Set(cfg.layers)].sort((a, b) => a - b),
    loftq_config: {},
    // Python writes an int alpha as 16 and a float one as 16.5; lora_dropout is always a float.
    lora_alpha: Number.isSafeInteger(cfg.alpha) ? cfg.alpha : new PyFloat(cfg.alpha),
    lora_bias: false,
    lora_dropout: new PyFloat(cfg.dropout),
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    peft_version: PEFT_FORMAT_VERSION,
    qalora_group_size: 16,
    r: cfg.rank,
    rank_pattern: {},
    revision: cfg.revision ?? null,
    target_modules: peftTargetModules(cfg, arch),
    target_parameters: null,
    task_type: 'CAUSAL_LM',
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: cfg.rslora,
  };
}

/** adapter_config.json text, byte for byte as PEFT's save_pretrained writes it. */
export function peftConfigJson(cfg: AdapterConfig, arch: LoraModelShape['arch']): string {
  return pyJsonDumps(peftAdapterConfig(cfg, arch));
}

/** The adapter's tensors under their PEFT names (views into params where a matrix's rows are contiguous). */
export function peftTensors(layout: AdapterLayout, params: Float32Array): SafeTensorInput[] {
  if (params.length !== layout.totalFloats) {
    throw new Error(`exportPeftAdapter: the parameter buffer holds ${params.length} floats but the layout needs ${layout.totalFloats}; pass the buffer planned with this layout`);
  }
  return layout.entries.flatMap((e) => [
    { name: peftKey(e.name, 'A'), dtype: 'F32' as const, shape: [...e.a.shape], data: readSlot(params, e.a) },
    { name: peftKey(e.name, 'B'), dtype: 'F32' as const, shape: [...e.b.shape], data: readSlot(params, e.b) },
  ]);
}

/** The two files of a PEFT adapter folder. */
export function exportPeftAdapter(
  layout: AdapterLayout,
  params: Float32Array,
  cfg: AdapterConfig,
  arch: LoraModelShape['arch'],
): Record<string, Uint8Array> {
  if (layout.rank !== cfg.rank) throw new Error(`exportPeftAdapter: the layout has rank ${layout.rank} but the settings say ${cfg.rank}`);
  return {
    [ADAPTER_CONFIG_FILE]: new TextEncoder().encode(peftConfigJson(cfg, arch)),
    [ADAPTER_WEIGHTS_FILE]: writeSafetensors(peftTensors(layout, params), { format: 'pt' }),
  };
}
