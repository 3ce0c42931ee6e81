/**
 * A random-weight replica of a published model: its exact config.json, every tensor the config
 * implies in bf16 (uniform in ±0.02, norms 1), generated tensor by tensor when the GPU upload asks
 * for it (nothing is written to disk, and at most one tensor is in memory at a time), with a small
 * byte-level tokenizer. For measuring memory and speed at real shapes, not for its outputs.
 */
import type { Row } from '../src/data/dataset.ts';
import { tokenizerFromHf } from '../src/data/tokenizer.ts';
import type { Gpu } from '../src/gpu/device.ts';
import { defaultAdapterConfig } from '../src/lora/config.ts';
import { configFromHf, expectedTensors } from '../src/model/config.ts';
import type { LoadedModel } from '../src/model/load-source.ts';
import { weightTable, type WeightEntry } from '../src/model/weights.ts';
import { trainPlan } from '../src/train/memory-plan.ts';
import { defaultTrainSettings, type TrainOptions } from '../src/train/options.ts';
import { Trainer } from '../src/train/trainer.ts';
import { tinyTokenizerFiles } from '../tests/helpers/tiny-models.ts';

/** bf16 bit patterns of uniform values in ±0.02 (or 1 for norms), from a 32-bit LCG. */
function randomBf16(n: number, seed: number, norm: boolean): Uint8Array {
  const out = new Uint16Array(n);
  if (norm) return new Uint8Array(out.fill(0x3f80).buffer);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[0] = ((s >>> 8) / 16777216 - 0.5) * 0.04;
    out[i] = u[0] >>> 16;
  }
  return new Uint8Array(out.buffer);
}

/** The replica of `configJson`, named `name` in messages. */
export function randomReplica(configJson: Record<string, unknown>, name: string): LoadedModel {
  const config = configFromHf({ ...configJson, torch_dtype: 'bfloat16' }, `${name}/config.json`);
  const entries = new Map<string, WeightEntry>();
  let seed = 1;
  for (const [tensor, shape] of expectedTensors(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const s = seed++;
    const norm = /norm\.weight$|ln_\d\.weight$|ln_f\.weight$/.test(tensor);
    entries.set(tensor, { shape, dtype: 'bf16', file: 'random', read: () => randomBf16(n, s, norm) });
  }
  const tok = tinyTokenizerFiles();
  const parse = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as object;
  const tokenizer = tokenizerFromHf(parse(tok['tokenizer.json']), parse(tok['tokenizer_config.json']));
  return { config, weights: weightTable(name, entries), tokenizer, format: 'safetensors', source: name };
}

/** Rows of about 120 byte-level tokens each. */
export const REPLICA_ROWS: Row[] = Array.from({ length: 8 }, (_, i) => ({
  input: `Row ${i}: the quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun for a while`,
  output: i % 2 ? 'spam' : 'ham', line: i + 1,
}));

export interface PlanCheck {
  model: string;
  batchSize: number;
  seqLen: number;
  recompute: number;
  plannedBytes: number;
  measuredBytes: number;
  /** |measured − planned| / planned */
  relError: number;
  stepSeconds: number;
}

/**
 * One real training step (r=16, all-linear) on `model`, measuring the pool's peak against the plan.
 * The pool must hold nothing else (it is measured from its live bytes before).
 */
export async function planCheck(gpu: Gpu, model: LoadedModel, o: { batchSize: number; seqLen: number; recompute: 'auto' | 'on' | 'off'; log?: (line: string) => void }): Promise<PlanCheck> {
  const options: TrainOptions = {
    ...defaultTrainSettings(),
    adapter: { ...defaultAdapterConfig(model.config.arch), rank: 16, alpha: 32, dropout: 0.05, targets: 'all-linear', seed: 1 },
    steps: 1, batchSize: o.batchSize, seqLen: o.seqLen, valSplit: 0, evalEvery: 0, recompute: o.recompute,
  };
  const plan = trainPlan({ config: model.config, weights: model.weights, maxBindingBytes: gpu.adapter.maxStorageBufferBindingSize }, options);
  const base = gpu.pool.liveBytes;
  gpu.pool.resetPeak();
  o.log?.(`${model.source}: uploading the weights and running one step (B=${o.batchSize}, T=${o.seqLen}, recompute ${plan.recompute})…`);
  const trainer = await Trainer.create(gpu, model, REPLICA_ROWS, options);
  const t0 = performance.now();
  const result = await trainer.run();
  const stepSeconds = (performance.now() - t0) / 1000;
  if (result.steps !== 1) throw new Error(`plan check: the step did not finish (${result.reason}: ${result.message ?? ''})`);
  const measuredBytes = gpu.pool.peakBytes - base;
  trainer.destroy();
  gpu.pool.trim();
  const plannedBytes = plan.peakBytes;
  return {
    model: model.source, batchSize: o.batchSize, seqLen: o.seqLen, recompute: plan.recompute, plannedBytes, measuredBytes,
    relError: Math.abs(measuredBytes - plannedBytes) / plannedBytes, stepSeconds,
  };
}
