/**
 * Import of a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) for a loaded
 * model. Accepts the key spellings in the wild: with or without the `base_model.model.` prefix,
 * with or without an adapter name (`lora_A.default.weight`), F32/F16/BF16 tensors. The modules
 * adapted are read from the tensors (the config's target_modules may be a regex); they must be
 * the same modules in every adapted layer.
 */
import { FormatError } from '../io/errors.ts';
import { parseSafetensors, tensorToF32 } from '../io/safetensors.ts';
import { adapterConfigProblems, type AdapterConfig } from './config.ts';
import { planAdapterLayout, writeSlot, type AdapterLayout } from './layout.ts';
import { adapterModules, blockModules, shortName, type AdapterModule, type LoraModelShape } from './modules.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from './peft.ts';

export interface ImportedAdapter {
  cfg: AdapterConfig;
  layout: AdapterLayout;
  params: Float32Array;
}

const KEY = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.([^.]+))?\.weight$/;

function readConfig(json: string | Uint8Array | Record<string, unknown>): Record<string, unknown> {
  if (typeof json === 'object' && !(json instanceof Uint8Array)) return json;
  const text = typeof json === 'string' ? json : new TextDecoder().decode(json);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FormatError(ADAPTER_CONFIG_FILE, `is not valid JSON (${(e as Error).message}); pick the adapter_config.json PEFT wrote`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FormatError(ADAPTER_CONFIG_FILE, 'is JSON but not an object of settings');
  return v as Record<string, unknown>;
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === false ||
  (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0);

function refuseConfig(msg: string): never {
  throw new FormatError(ADAPTER_CONFIG_FILE, msg);
}

function refuse(msg: string): never {
  throw new FormatError(ADAPTER_WEIGHTS_FILE, msg);
}

/** Refuses settings that change LoRA's math or add tensors tsugiki cannot hold. */
function checkSupported(c: Record<string, unknown>): void {
  if (c.peft_type !== undefined && c.peft_type !== 'LORA') refuseConfig(`is a ${String(c.peft_type)} adapter (peft_type), not LORA; tsugiki loads LoRA adapters only`);
  if (c.use_dora === true) refuseConfig('has use_dora: true; DoRA adapters are not supported (train or export the adapter as plain LoRA)');
  if (c.use_qalora === true) refuseConfig('has use_qalora: true; QA-LoRA adapters are not supported');
  if (c.lora_bias === true) refuseConfig('has lora_bias: true; LoRA adapters with a bias on B are not supported');
  for (const key of ['rank_pattern', 'alpha_pattern', 'modules_to_save', 'layer_replication', 'trainable_token_indices']) {
    if (!isEmpty(c[key])) refuseConfig(`sets ${key} (${JSON.stringify(c[key])}); tsugiki supports one rank and alpha for all modules and no extra trained modules`);
  }
}

function numberSetting(c: Record<string, unknown>, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number') refuseConfig(`"${key}" is ${JSON.stringify(v)}, not a number`);
  return v;
}

/** Module path → module, for every linear of every layer; also reachable without the task-head wrapper prefix. */
function moduleTable(model: LoraModelShape): Map<string, AdapterModule> {
  const table = new Map<string, AdapterModule>();
  for (const m of adapterModules(model, { targets: 'all-linear', layers: null })) {
    table.set(m.name, m);
    table.set(m.name.replace(/^(model|transformer)\./, ''), m); // saved from LlamaModel / GPT2Model
  }
  return table;
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Shortest target list (and layer list) that selects exactly the adapted modules, or null if none does. */
function describeModules(model: LoraModelShape, present: AdapterModule[]): Pick<AdapterConfig, 'targets' | 'layers'> | null {
  const paths = new Set(present.map((m) => m.module));
  const block = blockModules(model).map((b) => b.module);
  const targets: string[] = [];
  for (const path of block.filter((p) => paths.has(p))) {
    const short = shortName(path);
    const sameShort = block.filter((p) => shortName(p) === short);
    const t = sameShort.every((p) => paths.has(p)) ? short : path;
    if (!targets.includes(t)) targets.push(t);
  }
  const layerSet = [...new Set(present.map((m) => m.layer))].sort((a, b) => a - b);
  const layers = layerSet.length === model.layers ? null : layerSet;
  const expected = adapterModules(model, { targets, layers }).map((m) => m.name);
  const got = present.map((m) => m.name);
  return expected.length === got.length && expected.every((n, i) => n === got[i]) ? { targets, layers } : null;
}

export function importPeftAdapter(
  configJson: string | Uint8Array | Record<string, unknown>,
  safetensorsBytes: Uint8Array,
  model: LoraModelShape,
): ImportedAdapter {
  const c = readConfig(configJson);
  checkSupported(c);
  const rank = c.r;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) {
    refuseConfig(`"r" is ${JSON.stringify(rank)}; a LoRA rank must be a whole number ≥ 1`);
  }
  const file = parseSafetensors(safetensorsBytes, ADAPTER_WEIGHTS_FILE);
  if (file.tensors.length === 0) refuse('holds no tensors; the adapter is empty');

  const table = moduleTable(model);
  const pairs = new Map<string, { A?: string; B?: string }>(); // by module path
  const adapterNames = new Set<string>();
  for (const t of file.tensors) {
    const m = KEY.exec(t.name);
    if (!m) {
      if (t.name.includes('lora_magnitude_vector')) refuse(`tensor '${t.name}' is a DoRA magnitude; DoRA adapters are not supported`);
      if (/\.lora_B(\.[^.]+)?\.bias$/.test(t.name)) refuse(`tensor '${t.name}' is a LoRA bias; adapters with lora_bias are not supported`);
      refuse(`tensor '${t.name}' is not a LoRA weight (expected names ending in .lora_A.weight or .lora_B.weight); the file is not a plain LoRA adapter`);
    }
    const [, path, which, adapterName] = m;
    if (adapterName !== undefined) adapterNames.add(adapterName);
    const mod = table.get(path);
    if (!mod) {
      refuse(`tensor '${t.name}' is for module '${path}', which this ${model.arch} model (${model.layers} layers) does not have; the adapter was trained for a different base model`);
    }
    const expected = which === 'A' ? [rank, mod.inFeatures] : [mod.outFeatures, rank];
    if (t.shape.length !== 2 || t.shape[0] !== expected[0] || t.shape[1] !== expected[1]) {
      refuse(`tensor '${t.name}' has shape ${shapeText(t.shape)} but ${mod.name} (${mod.outFeatures} ← ${mod.inFeatures}) at rank r=${rank} needs lora_${which} ${shapeText(expected)}; the adapter was trained for a different base model or its config has the wrong r`);
    }
    const pair = pairs.get(mod.name) ?? {};
    if (pair[which as 'A' | 'B'] !== undefined) refuse(`module ${mod.name} has two lora_${which} tensors ('${pair[which as 'A' | 'B']}' and '${t.name}')`);
    pair[which as 'A' | 'B'] = t.name;
    pairs.set(mod.name, pair);
  }
  if (adapterNames.size > 1) refuse(`holds several adapters (${[...adapterNames].sort().join(', ')}); save one adapter per folder`);
  for (const [name, pair] of pairs) {
    if (pair.B === undefined) refuse(`tensor '${pair.A}' has no matching lora_B for module ${name}; the file is incomplete`);
    if (pair.A === undefined) refuse(`tensor '${pair.B}' has no matching lora_A for module ${name}; the file is incomplete`);
  }

  const order = adapterModules(model, { targets: 'all-linear', layers: null });
  const present = order.filter((m) => pairs.has(m.name));
  const selection = describeModules(model, present);
  if (selection === null) {
    return refuse(`adapts different modules in different layers (${present.map((m) => m.name).join(', ')}); tsugiki needs the same modules in every adapted layer`);
  }
  const cfg: AdapterConfig = {
    rank,
    alpha: numberSetting(c, 'lora_alpha', 8),
    dropout: numberSetting(c, 'lora_dropout', 0),
    ...selection,
    rslora: c.use_rslora === true,
    init: c.init_lora_weights === 'gaussian' ? 'gaussian' : 'default',
    seed: 0,
    ...(typeof c.base_model_name_or_path === 'string' ? { baseModel: c.base_model_name_or_path } : {}),
    ...(typeof c.revision === 'string' ? { revision: c.revision } : {}),
  };
  const problems = adapterConfigProblems(cfg, model);
  if (problems.length > 0) refuseConfig(problems.join('; '));

  const layout = planAdapterLayout(present, rank);
  const params = new Float32Array(layout.totalFloats);
  present.forEach((mod, i) => {
    const e = layout.entries[i];
    const { A, B } = pairs.get(mod.name)!;
    writeSlot(params, e.a, tensorToF32(file, safetensorsBytes, A!));
    writeSlot(params, e.b, tensorToF32(file, safetensorsBytes, B!));
  });
  return { cfg, layout, params };
}
