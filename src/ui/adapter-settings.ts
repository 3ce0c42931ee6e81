/**
 * The adapter step's settings: presets for people who do not want to choose, the modules a
 * model offers grouped as attention / MLP, and the live summary (trainable parameters, file size,
 * GPU memory) the step shows.
 */
import { parameterCount, type ModelConfig } from '../model/config.ts';
import { suggestTraining } from './preset-rule.ts';
import { adapterConfigProblems, type AdapterConfig } from '../lora/config.ts';
import type { BaseWeights } from '../model/plan-run.ts';
import { adapterFileBytes, adapterModules, blockModules, shortName, trainableParams } from '../lora/modules.ts';
import { estimateTrainingMemory, memoryVerdict, type GpuLimits, type MemoryEstimate, type MemoryVerdict } from './estimate.ts';

export type PresetName = 'quick' | 'balanced' | 'thorough';

export interface TrainingSettings {
  learningRate: number;
  epochs: number;
  /** B */
  batchSize: number;
  /** T */
  seqLen: number;
  /** Always recompute activations in backward (less memory, slower); otherwise only when the run would not fit. */
  recompute?: boolean;
}

export interface AdapterSettings {
  /** The preset the settings came from, or 'custom' once changed by hand. */
  preset: PresetName | 'custom';
  adapter: AdapterConfig;
  training: TrainingSettings;
  /** Why the preset chose this learning rate and these epochs (absent once changed by hand). */
  suggestion?: string;
}

export interface Preset {
  label: string;
  description: string;
  rank: number;
  modules: 'query-value' | 'attention' | 'all';
  epochs: number;
  learningRate: number;
  /** The fewest optimizer steps the preset rule aims for (src/ui/preset-rule.ts). */
  minSteps: number;
}

/** Base values; the learning rate and the epochs are then fitted to the model and the data (preset-rule.ts). */
export const PRESETS: Record<PresetName, Preset> = {
  quick: { label: 'Quick', description: 'Smallest adapter, one pass over the data. Good for a first try.', rank: 4, modules: 'query-value', epochs: 1, learningRate: 2e-4, minSteps: 30 },
  balanced: { label: 'Balanced', description: 'A medium adapter on all attention parts, two passes.', rank: 8, modules: 'attention', epochs: 2, learningRate: 2e-4, minSteps: 60 },
  thorough: { label: 'Thorough', description: 'Largest adapter on every layer part, three passes. Slowest.', rank: 16, modules: 'all', epochs: 3, learningRate: 1e-4, minSteps: 120 },
};

export const DEFAULT_TRAINING: Pick<TrainingSettings, 'batchSize' | 'seqLen'> = { batchSize: 4, seqLen: 256 };
export const DEFAULT_DROPOUT = 0.05;

export interface ModuleChoice {
  /** The target name: the short name (`q_proj`) unless another module shares it (GPT-2's `c_proj`). */
  id: string;
  group: 'attention' | 'mlp';
  inFeatures: number;
  outFeatures: number;
}

/** The linear modules of one block that LoRA can adapt, in forward order. */
export function moduleChoices(config: ModelConfig): ModuleChoice[] {
  const block = blockModules(config);
  return block.map((b) => {
    const short = shortName(b.module);
    const shared = block.filter((o) => shortName(o.module) === short).length > 1;
    return { id: shared ? b.module : short, group: b.module.startsWith('mlp.') ? 'mlp' : 'attention', inFeatures: b.inFeatures, outFeatures: b.outFeatures };
  });
}

function presetTargets(config: ModelConfig, modules: Preset['modules']): string[] {
  const choices = moduleChoices(config);
  if (modules === 'all') return choices.map((c) => c.id);
  if (modules === 'attention') return choices.filter((c) => c.group === 'attention').map((c) => c.id);
  const qv = choices.filter((c) => c.id === 'q_proj' || c.id === 'v_proj').map((c) => c.id);
  return qv.length > 0 ? qv : choices.filter((c) => c.id === 'c_attn').map((c) => c.id);
}

/** The full settings of a preset for this model (and data, when its training rows are known); alpha = 2·rank, all layers. */
export function presetSettings(name: PresetName, config: ModelConfig, keep?: Pick<TrainingSettings, 'batchSize' | 'seqLen'>, trainRows: number | null = null): AdapterSettings {
  const p = PRESETS[name];
  const shape = keep ?? DEFAULT_TRAINING;
  const s = suggestTraining(p, parameterCount(config), trainRows, shape.batchSize);
  return {
    preset: name,
    adapter: {
      rank: p.rank,
      alpha: 2 * p.rank,
      dropout: DEFAULT_DROPOUT,
      targets: presetTargets(config, p.modules),
      layers: null,
      rslora: false,
      init: 'default',
      seed: 0,
    },
    training: { learningRate: s.learningRate, epochs: s.epochs, ...shape },
    suggestion: s.reason,
  };
}

export interface AdapterSummary {
  trainableParams: number;
  adapterFileBytes: number;
  memory: MemoryEstimate;
  verdict: MemoryVerdict;
  /** Sentences saying what is wrong with the settings; empty when they are valid. */
  problems: string[];
}

/** Trainable parameters, adapter file size and GPU memory of these settings on this model. */
export function adapterSummary(config: ModelConfig, settings: AdapterSettings, limits: GpuLimits | null, base: BaseWeights = 'source'): AdapterSummary {
  const { adapter, training } = settings;
  const problems = adapterConfigProblems(adapter, config);
  const rankOk = Number.isInteger(adapter.rank) && adapter.rank >= 1;
  const modules = adapterModules(config, { targets: adapter.targets, layers: adapter.layers });
  const shape = {
    batchSize: Math.max(1, Math.floor(training.batchSize) || 1), seqLen: Math.max(1, Math.floor(training.seqLen) || 1),
    adapter: rankOk && modules.length > 0 ? { rank: adapter.rank, targets: adapter.targets, layers: adapter.layers } : null,
    recompute: training.recompute ? ('on' as const) : ('auto' as const), base,
  };
  const memory = estimateTrainingMemory(config, shape, limits);
  return {
    trainableParams: rankOk ? trainableParams(modules, adapter.rank) : 0,
    adapterFileBytes: rankOk ? adapterFileBytes(modules, adapter.rank) : 0,
    memory,
    verdict: memoryVerdict(memory, limits),
    problems,
  };
}
