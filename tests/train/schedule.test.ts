import { describe, expect, it } from 'vitest';
import { lrAt, lrLambda, warmupSteps } from '../../src/train/schedule.ts';

// Values written out from transformers/optimization.py's lr_lambda formulas by hand:
// warmup step/max(1,W); linear max(0,(S−step)/max(1,S−W)); cosine max(0, ½(1+cos(π·2·0.5·p))).
describe('learning-rate schedules (HF get_*_schedule_with_warmup)', () => {
  const base = { warmupSteps: 4, totalSteps: 20 };

  it('warms up linearly from 0 at step 0, as LambdaLR evaluates lambda(0) for the first step', () => {
    for (const kind of ['constant', 'linear', 'cosine'] as const) {
      expect(lrLambda({ ...base, kind }, 0)).toBe(0);
      expect(lrLambda({ ...base, kind }, 1)).toBe(0.25);
      expect(lrLambda({ ...base, kind }, 3)).toBe(0.75);
    }
  });

  it('constant stays at 1 after warmup', () => {
    expect(lrLambda({ ...base, kind: 'constant' }, 4)).toBe(1);
    expect(lrLambda({ ...base, kind: 'constant' }, 19)).toBe(1);
    expect(lrLambda({ ...base, kind: 'constant' }, 100)).toBe(1);
  });

  it('linear decays to 0 at the last step', () => {
    const s = { ...base, kind: 'linear' as const };
    expect(lrLambda(s, 4)).toBe(1); // (20−4)/16
    expect(lrLambda(s, 10)).toBe(10 / 16);
    expect(lrLambda(s, 19)).toBe(1 / 16);
    expect(lrLambda(s, 20)).toBe(0);
    expect(lrLambda(s, 25)).toBe(0); // clamped at 0
  });

  it('cosine follows half a cosine wave', () => {
    const s = { ...base, kind: 'cosine' as const };
    expect(lrLambda(s, 4)).toBe(1);
    expect(lrLambda(s, 12)).toBeCloseTo(0.5, 15); // p = 0.5 → ½(1 + cos(π/2))
    expect(lrLambda(s, 8)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.25)), 15); // p = 0.25
    expect(lrLambda(s, 20)).toBeCloseTo(0, 15);
  });

  it('without warmup the first step runs at the peak lr', () => {
    expect(lrAt({ kind: 'linear', lr: 2e-4, warmupSteps: 0, totalSteps: 10 }, 0)).toBe(2e-4);
    expect(lrAt({ kind: 'linear', lr: 2e-4, warmupSteps: 0, totalSteps: 10 }, 5)).toBeCloseTo(1e-4, 18);
    expect(lrAt({ kind: 'cosine', lr: 1e-3, warmupSteps: 0, totalSteps: 1 }, 0)).toBe(1e-3);
  });

  it('reads --warmup as steps, or as a fraction of the run below 1', () => {
    expect(warmupSteps(0, 100)).toBe(0);
    expect(warmupSteps(10, 100)).toBe(10);
    expect(warmupSteps(0.1, 95)).toBe(10); // ceil(9.5), HF's warmup_ratio
    expect(() => warmupSteps(2.5, 100)).toThrow(/whole/);
    expect(() => warmupSteps(-1, 100)).toThrow(/≥ 0/);
  });
});
