/**
 * The plan against a real training step at a real model's shapes: a random-weight replica of
 * Qwen2.5-0.5B's exact config (bf16, generated in memory, never written), B=2, T=64, r=16 on all
 * linear modules. Measured with `tsugiki bench --plan-check` on SwiftShader (2 shared cores): pool
 * peak equal to the plan (0.00% apart; 379.8 MiB for the first 2 blocks with recompute); the whole
 * model's step took 35 minutes, so this is opt-in: TSUGIKI_PLAN_CHECK=1.
 * plan-run.test.ts makes the same check on small models in every run.
 */
import { describe, expect, it } from 'vitest';
import { planCheck, randomReplica } from '../../bench/replica.ts';
import { testGpu } from '../helpers/gpu.ts';
import { QWEN25_05B } from './config-hub-samples.ts';

describe.runIf(process.env.TSUGIKI_PLAN_CHECK === '1')('planned peak on a Qwen2.5-0.5B replica', () => {
  for (const recompute of ['off', 'on'] as const) {
    it(`one training step, recompute ${recompute}: the pool's peak is the plan's within 5%`, async () => {
      const gpu = await testGpu();
      const check = await planCheck(gpu, randomReplica(QWEN25_05B, 'Qwen2.5-0.5B replica'), { batchSize: 2, seqLen: 64, recompute });
      expect(check.recompute).toBe(recompute === 'on' ? 1 : 0);
      expect(check.relError).toBeLessThan(0.05);
    }, 1_800_000);
  }
});
