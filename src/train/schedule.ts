/**
 * Learning-rate schedules with linear warmup, as Hugging Face transformers' optimization.py
 * defines them (LambdaLR multipliers of the peak lr, evaluated at the 0-based optimizer step):
 *
 *   warmup (all):  step < W:  step / max(1, W)
 *   constant:      1                                        (get_constant_schedule_with_warmup)
 *   linear:        max(0, (S − step) / max(1, S − W))       (get_linear_schedule_with_warmup)
 *   cosine:        p = (step − W) / max(1, S − W)
 *                  max(0, ½ (1 + cos(π · 2 · 0.5 · p)))     (get_cosine_schedule_with_warmup, num_cycles 0.5)
 *
 * S = total optimizer steps, W = warmup steps. The Trainer calls scheduler.step() after each
 * optimizer step, so step k (0-based) uses lambda(k): with warmup the first step has lr 0.
 */

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'linear', 'cosine'];

export interface Schedule {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** W: warmup steps (whole number). */
  warmupSteps: number;
  /** S: total optimizer steps. */
  totalSteps: number;
}

/** The multiplier of the peak lr at 0-based optimizer step `step`. */
export function lrLambda(s: Omit<Schedule, 'lr'>, step: number): number {
  const W = s.warmupSteps;
  const S = s.totalSteps;
  if (step < W) return step / Math.max(1, W);
  if (s.kind === 'constant') return 1;
  if (s.kind === 'linear') return Math.max(0, (S - step) / Math.max(1, S - W));
  const progress = (step - W) / Math.max(1, S - W);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
}

/** The learning rate of 0-based optimizer step `step`. */
export function lrAt(s: Schedule, step: number): number {
  return s.lr * lrLambda(s, step);
}

/**
 * Warmup steps from the `--warmup` value: a whole number of steps, or, when 0 < value < 1, a
 * fraction of the total (HF's warmup_ratio: ceil(ratio · S)).
 */
export function warmupSteps(value: number, totalSteps: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--warmup ${value}: give a number of steps ≥ 0, or a fraction of the run below 1 (e.g. 0.1)`);
  if (value > 0 && value < 1) return Math.ceil(value * totalSteps);
  if (!Number.isInteger(value)) throw new Error(`--warmup ${value}: a value of 1 or more is a number of steps and must be whole`);
  return value;
}
