/**
 * `tsugiki plan MODEL [train options] [--base-4bit] [--json]`: the GPU memory a training run of
 * these settings will hold at its peak, by owner, from the engine's plan (src/model/plan-run.ts),
 * without a GPU and without running a step. MODEL may be a folder with config.json only.
 */
import { numberOption, parseArgs, stringOption, UsageError } from '../args.ts';
import { formatBytes } from '../../gpu/pool.ts';
import { defaultAdapterConfig, parseLayers, parseTargets } from '../../lora/config.ts';
import { openPlanSource } from '../../model/plan-source-node.ts';
import { DEFAULT_GPU_BUDGET_BYTES, planRun, type BaseWeights, type RunPlan } from '../../model/plan-run.ts';
import type { ModelConfig } from '../../model/config.ts';
import { memoryBudgetFromArgs, recomputeFromArgs } from '../../train/cli-options.ts';
import { DEFAULT_SEQ_LEN, defaultTrainSettings } from '../../train/options.ts';

const USAGE = 'usage: tsugiki plan MODEL [--rank R] [--targets q_proj,v_proj|all-linear] [--layers 0-3] [--batch-size B] [--seq-len T] [--grad-accum N] [--optimizer adamw|sgd] [--recompute|--no-recompute] [--memory-budget GIB] [--base-4bit] [--json]';

export interface PlanSettings {
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  rank: number;
  targets: string[] | 'all-linear';
  layers: number[] | null;
  optimizer: 'adamw' | 'sgd';
  recompute: 'auto' | 'on' | 'off';
  budgetBytes: number;
  base: BaseWeights;
}

/** The plan of a training run of these settings on this config. */
export function planFor(config: ModelConfig, s: PlanSettings, weightType?: (name: string) => number, maxBindingBytes?: number): RunPlan {
  return planRun(config, {
    batchSize: s.batchSize, seqLen: s.seqLen, training: true, gradAccum: s.gradAccum, optimizer: s.optimizer,
    adapter: { rank: s.rank, targets: s.targets, layers: s.layers },
    recompute: s.recompute === 'off' ? 0 : s.recompute, budgetBytes: s.budgetBytes, maxBindingBytes, base: s.base, weightType,
  });
}

/** Owners in the order a person reads them. */
const OWNERS: [string, string][] = [
  ['weights', 'frozen weights'], ['adapter', 'LoRA params and grads'], ['train', 'optimizer state, best adapter'],
  ['activations', 'activations'], ['uniforms', 'uniforms'], ['loss', 'loss'], ['readback', 'readback'],
];

export function planText(name: string, s: PlanSettings, p: RunPlan, weightsFrom: string): string {
  const k = p.recompute;
  const lines = [
    `${name}: training B=${s.batchSize}, T=${s.seqLen}${s.gradAccum > 1 ? ` ×${s.gradAccum} micro-batches` : ''}, rank ${s.rank} on ${s.targets === 'all-linear' ? 'all linear modules' : s.targets.join(',')}, ` +
      `${s.base === '4bit' ? '4-bit base as train --base-4bit quantizes it (Q4_K block linears, Q6_K embeddings)' : `weights as stored (types from the ${weightsFrom})`}`,
    ...OWNERS.filter(([o]) => p.owners[o]).map(([o, what]) => `  ${o.padEnd(12)} ${formatBytes(p.owners[o]).padStart(10)}  ${what}`),
    `  ${'peak'.padEnd(12)} ${formatBytes(p.peakBytes).padStart(10)}  (${p.peakBytes.toLocaleString('en-US')} bytes)`,
    `  recompute: ${k === 0 ? 'off (every activation kept)' : k === 1 ? 'on (each block input kept, blocks recomputed in backward)' : `on (one block input in every ${k} kept, the blocks between recomputed from it)`}` +
      `${s.recompute === 'auto' ? ', chosen automatically' : ''}; LM head ${p.activations.headRows} rows at a time`,
    `  largest buffer: ${p.largest.label} ${formatBytes(p.largest.bytes)}`,
    `  ${p.fits ? 'fits' : 'does not fit'} the ${formatBytes(s.budgetBytes)} budget`,
  ];
  return `${lines.join('\n')}\n`;
}

export function planJson(name: string, s: PlanSettings, p: RunPlan): Record<string, unknown> {
  return {
    model: name, batch_size: s.batchSize, seq_len: s.seqLen, grad_accum: s.gradAccum, rank: s.rank, targets: s.targets, layers: s.layers,
    base: s.base, recompute: p.recompute, recompute_setting: s.recompute, head_rows: p.activations.headRows, peak_bytes: p.peakBytes,
    owners: p.owners, largest: p.largest, fits: p.fits, budget_bytes: s.budgetBytes, adapter_floats: p.adapterFloats, dispatches: p.dispatches,
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['rank', 'targets', 'layers', 'batch-size', 'seq-len', 'grad-accum', 'optimizer', 'memory-budget'], ['json', 'recompute', 'no-recompute', 'base-4bit']);
  const [spec, ...extra] = args.positionals;
  if (!spec || extra.length > 0) throw new UsageError(`give one MODEL (a .gguf file, a folder with config.json, or hf:owner/name).\n${USAGE}`);
  const src = await openPlanSource(spec, (line) => process.stderr.write(`${line}\n`));
  const c = src.config;
  const d = defaultTrainSettings();
  const base = defaultAdapterConfig(c.arch);
  const targets = stringOption(args, 'targets');
  const layers = stringOption(args, 'layers');
  const baseOpt: BaseWeights = args.options.has('base-4bit') ? '4bit' : 'source';
  const optimizer = stringOption(args, 'optimizer') ?? d.optimizer;
  if (optimizer !== 'adamw' && optimizer !== 'sgd') throw new UsageError(`--optimizer ${optimizer}: choose adamw or sgd.`);
  const s: PlanSettings = {
    batchSize: numberOption(args, 'batch-size', d.batchSize, { integer: true, min: 1 }),
    seqLen: numberOption(args, 'seq-len', Math.min(DEFAULT_SEQ_LEN, c.maxPositions), { integer: true, min: 2 }),
    gradAccum: numberOption(args, 'grad-accum', d.gradAccum, { integer: true, min: 1 }),
    rank: numberOption(args, 'rank', base.rank, { integer: true, min: 1 }),
    targets: targets === undefined ? base.targets : parseTargets(targets, c.arch),
    layers: layers === undefined ? null : parseLayers(layers, c.layers),
    optimizer,
    recompute: recomputeFromArgs(args),
    budgetBytes: memoryBudgetFromArgs(args) ?? DEFAULT_GPU_BUDGET_BYTES,
    base: baseOpt,
  };
  const plan = planFor(c, s, src.weightType ?? undefined);
  if (plan.adapterFloats === 0) throw new UsageError(`--targets ${targets ?? base.targets} matches no module of ${spec} on the chosen layers; see tsugiki info for its module names.`);
  if (args.options.has('json')) process.stdout.write(`${JSON.stringify(planJson(spec, s, plan))}\n`);
  else process.stdout.write(planText(spec, s, plan, src.weightsFrom === 'files' ? "model's files" : 'config'));
  return 0;
}
