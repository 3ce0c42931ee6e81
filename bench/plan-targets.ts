/**
 * Planned peak GPU memory of LoRA training on models people have, against the targets that make
 * them trainable in a browser tab: the engine's own plan (src/model/plan-run.ts) from the
 * published configs, recomputation chosen automatically to fit the target. No GPU needed.
 *
 * 4-bit bases, as `tsugiki train --base-4bit` quantizes at load (src/model/quantize-base.ts): the
 * blocks' linear weights in Q4_K (144 bytes per 256 values), the token embeddings (also the tied LM
 * head) in Q6_K (210 bytes per 256), norms as stored (bf16).
 */
import { formatBytes } from '../src/gpu/pool.ts';
import { configFromHf } from '../src/model/config.ts';
import { planRun, type BaseWeights } from '../src/model/plan-run.ts';
import { LLAMA32_1B, LLAMA32_3B, QWEN25_05B } from '../tests/model/config-hub-samples.ts';

const GiB = 1024 ** 3;

export interface PlanTarget {
  name: string;
  config: Record<string, unknown>;
  base: BaseWeights;
  batchSize: number;
  seqLen: number;
  rank: number;
  targetBytes: number;
}

export const PLAN_TARGETS: PlanTarget[] = [
  { name: 'Qwen2.5-0.5B, bf16 base', config: QWEN25_05B, base: 'source', batchSize: 8, seqLen: 256, rank: 16, targetBytes: 1.5 * GiB },
  { name: 'Llama-3.2-1B, 4-bit base', config: LLAMA32_1B, base: '4bit', batchSize: 8, seqLen: 256, rank: 16, targetBytes: 2 * GiB },
  { name: 'Llama-3.2-3B, 4-bit base', config: LLAMA32_3B, base: '4bit', batchSize: 4, seqLen: 512, rank: 16, targetBytes: 4 * GiB },
];

export interface PlanTargetReport {
  name: string;
  batch_size: number;
  seq_len: number;
  rank: number;
  base: BaseWeights;
  target_bytes: number;
  planned_bytes: number;
  /** The same run keeping every activation (what the plan saves). */
  without_recompute_bytes: number;
  recompute: number;
  head_rows: number;
  owners: Record<string, number>;
  met: boolean;
  /** When the target is missed: the peak keeping one block input in 4 (more recomputation). */
  one_in_four_bytes: number | null;
}

export function runPlanTargets(targets: PlanTarget[] = PLAN_TARGETS): PlanTargetReport[] {
  return targets.map((t) => {
    const config = configFromHf(t.config, t.name);
    const o = {
      batchSize: t.batchSize, seqLen: t.seqLen, training: true, base: t.base, budgetBytes: t.targetBytes,
      adapter: { rank: t.rank, targets: 'all-linear' as const, layers: null },
    };
    const plan = planRun(config, { ...o, recompute: 'auto' });
    const kept = planRun(config, { ...o, recompute: 0 });
    return {
      name: t.name, batch_size: t.batchSize, seq_len: t.seqLen, rank: t.rank, base: t.base, target_bytes: t.targetBytes,
      planned_bytes: plan.peakBytes, without_recompute_bytes: kept.peakBytes, recompute: plan.recompute,
      head_rows: plan.activations.headRows, owners: plan.owners, met: plan.peakBytes <= t.targetBytes,
      one_in_four_bytes: plan.peakBytes <= t.targetBytes ? null : planRun(config, { ...o, recompute: 4 }).peakBytes,
    };
  });
}

export function formatPlanTargets(reports: PlanTargetReport[]): string {
  const lines = ['planned peak GPU memory, LoRA r=16 on all linear modules (4-bit: Q4_K block linears, Q6_K embeddings):'];
  for (const r of reports) {
    const k = r.recompute === 0 ? 'no recompute' : r.recompute === 1 ? 'recompute every block' : `recompute, 1 block input in ${r.recompute} kept`;
    lines.push(
      `  ${r.name}, B=${r.batch_size}, T=${r.seq_len}: ${formatBytes(r.planned_bytes)} (target ≤ ${formatBytes(r.target_bytes)}: ${r.met ? 'met' : 'NOT met'}; ` +
        `${k}; head ${r.head_rows} rows; weights ${formatBytes(r.owners.weights)}, activations ${formatBytes(r.owners.activations)}; ` +
        `${formatBytes(r.without_recompute_bytes)} keeping every activation` +
        `${r.one_in_four_bytes === null ? '' : `; ${formatBytes(r.one_in_four_bytes)} keeping 1 block input in 4`}; optimizer state and best adapter ${formatBytes(r.owners.train)})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
