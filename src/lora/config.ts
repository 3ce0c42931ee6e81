/**
 * The adapter's settings (PEFT's LoraConfig, the parts tsugiki trains), their validation, and the
 * parsers behind the CLI's `--targets` and `--layers`.
 */
import { targetNames, type LoraModelShape } from './modules.ts';

export interface AdapterConfig {
  /** R */
  rank: number;
  alpha: number;
  /** Probability of zeroing an input of the LoRA branch, in [0, 1). */
  dropout: number;
  /** PEFT target names (`q_proj`, `self_attn.q_proj`), or every linear except lm_head. */
  targets: string[] | 'all-linear';
  /** Layer indices to adapt; null = all layers. */
  layers: number[] | null;
  /** Rank-stabilised scaling alpha/√R instead of alpha/R. */
  rslora: boolean;
  /** 'default': A ~ Kaiming-uniform(a=√5), B = 0; 'gaussian': A ~ N(0, (1/R)²), B = 0 (PEFT's). */
  init: 'default' | 'gaussian';
  seed: number;
  /** Hub id or name of the base model, written to adapter_config.json. */
  baseModel?: string;
  revision?: string;
}

/** PEFT's LoraConfig defaults (r=8, lora_alpha=8, lora_dropout=0, its per-model target mapping). */
export function defaultAdapterConfig(arch: LoraModelShape['arch']): AdapterConfig {
  return {
    rank: 8,
    alpha: 8,
    dropout: 0,
    targets: arch === 'llama' ? ['q_proj', 'v_proj'] : ['c_attn'],
    layers: null,
    rslora: false,
    init: 'default',
    seed: 0,
  };
}

export class AdapterConfigError extends Error {
  override readonly name = 'AdapterConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0] : `the adapter settings have ${problems.length} problems:\n- ${problems.join('\n- ')}`);
    this.problems = problems;
  }
}

/** s = alpha / R, or alpha / √R with rsLoRA. */
export function loraScale(cfg: Pick<AdapterConfig, 'rank' | 'alpha' | 'rslora'>): number {
  return cfg.rslora ? cfg.alpha / Math.sqrt(cfg.rank) : cfg.alpha / cfg.rank;
}

function unknownTargetProblem(unknown: string[], arch: LoraModelShape['arch']): string {
  const list = unknown.map((t) => `'${t}'`).join(', ');
  return `${unknown.length === 1 ? 'target' : 'targets'} ${list} ${unknown.length === 1 ? 'is' : 'are'} not a module of a ${arch} model; choose from ${targetNames(arch).join(', ')} or all-linear`;
}

/** Every problem with the settings for this model, as sentences (empty when valid). */
export function adapterConfigProblems(cfg: AdapterConfig, model: LoraModelShape): string[] {
  const p: string[] = [];
  if (!Number.isInteger(cfg.rank) || cfg.rank < 1) p.push(`rank must be a whole number ≥ 1 (got ${cfg.rank})`);
  if (!Number.isFinite(cfg.alpha) || cfg.alpha <= 0) p.push(`alpha must be a number > 0 (got ${cfg.alpha}); a common choice is twice the rank`);
  if (!Number.isFinite(cfg.dropout) || cfg.dropout < 0 || cfg.dropout >= 1) p.push(`dropout must be in [0, 1) (got ${cfg.dropout}); 0.05 is typical, 0 turns it off`);
  if (cfg.targets !== 'all-linear') {
    if (cfg.targets.length === 0) p.push('no target modules are chosen; pick at least one (e.g. q_proj,v_proj) or all-linear');
    const known = new Set(targetNames(model.arch));
    const unknown = cfg.targets.filter((t) => !known.has(t));
    if (unknown.length > 0) p.push(unknownTargetProblem(unknown, model.arch));
  }
  if (cfg.layers !== null) {
    if (cfg.layers.length === 0) p.push('the layer list is empty; give at least one layer, or none to adapt all layers');
    const bad = cfg.layers.filter((l) => !Number.isInteger(l) || l < 0 || l >= model.layers);
    if (bad.length > 0) p.push(`layer ${bad.join(', ')} is out of range; this model has layers 0 to ${model.layers - 1}`);
    const dup = cfg.layers.filter((l, i) => cfg.layers!.indexOf(l) !== i);
    if (dup.length > 0) p.push(`layer ${[...new Set(dup)].join(', ')} is listed more than once`);
  }
  if (cfg.init !== 'default' && cfg.init !== 'gaussian') p.push(`init must be 'default' or 'gaussian' (got '${String(cfg.init)}')`);
  if (!Number.isSafeInteger(cfg.seed)) p.push(`seed must be a whole number (got ${cfg.seed})`);
  return p;
}

/** Throws an AdapterConfigError naming every problem; returns the config when valid. */
export function validateAdapterConfig(cfg: AdapterConfig, model: LoraModelShape): AdapterConfig {
  const problems = adapterConfigProblems(cfg, model);
  if (problems.length > 0) throw new AdapterConfigError(problems);
  return cfg;
}

/**
 * `--layers`: comma-separated indices and inclusive ranges (`0-3,7`), sorted and de-duplicated;
 * `all` or an empty string means every layer (null).
 */
export function parseLayers(text: string, layerCount: number): number[] | null {
  const spec = text.trim();
  if (spec === '' || spec.toLowerCase() === 'all') return null;
  const out = new Set<number>();
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new AdapterConfigError([`--layers: '${part}' is not a layer index or range; write e.g. 0-3,7`]);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new AdapterConfigError([`--layers: the range '${part}' runs backwards; write ${hi}-${lo}`]);
    if (hi >= layerCount) {
      throw new AdapterConfigError([`--layers: '${part}' goes past the last layer; this model has layers 0 to ${layerCount - 1}`]);
    }
    for (let l = lo; l <= hi; l++) out.add(l);
  }
  return [...out].sort((a, b) => a - b);
}

/** `--targets`: `all-linear`, or comma-separated target names checked against the arch. */
export function parseTargets(text: string, arch: LoraModelShape['arch']): string[] | 'all-linear' {
  const spec = text.trim();
  if (spec.toLowerCase() === 'all-linear') return 'all-linear';
  const targets = [...new Set(spec.split(',').map((t) => t.trim()).filter((t) => t !== ''))];
  if (targets.length === 0) throw new AdapterConfigError(['--targets is empty; give module names (e.g. q_proj,v_proj) or all-linear']);
  const known = new Set(targetNames(arch));
  const unknown = targets.filter((t) => !known.has(t));
  if (unknown.length > 0) throw new AdapterConfigError([`--targets: ${unknownTargetProblem(unknown, arch)}`]);
  return targets;
}
