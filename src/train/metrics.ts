/** metrics.jsonl lines and the CLI's progress text. */
import type { EvalEvent, StepEvent } from './events.ts';

/** Finite numbers as they are; NaN and ±Inf as null (JSON has no such numbers). */
const num = (x: number) => (Number.isFinite(x) ? x : null);

/** One metrics.jsonl line per step: step, loss, lr, grad_norm, tokens_per_s, elapsed_s, epoch. */
export function stepLine(e: StepEvent): string {
  return JSON.stringify({ step: e.step, loss: num(e.loss), lr: e.lr, grad_norm: num(e.grad_norm), tokens_per_s: num(e.tokens_per_s), elapsed_s: num(e.elapsed_s), epoch: e.epoch });
}

/** A validation line: step, val_loss and, for labels, val_accuracy. */
export function evalLine(e: EvalEvent): string {
  return JSON.stringify({ step: e.step, val_loss: num(e.val_loss), ...(e.val_accuracy !== undefined ? { val_accuracy: e.val_accuracy } : {}) });
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Seconds left, from the pace of the steps done in this session. */
export function etaSeconds(e: StepEvent, totalSteps: number, firstStep: number, firstElapsed: number): number {
  const done = e.step - firstStep;
  if (done <= 0) return Number.NaN;
  return ((e.elapsed_s - firstElapsed) / done) * (totalSteps - e.step);
}

export function progressText(e: StepEvent, totalSteps: number, eta: number): string {
  return `step ${e.step}/${totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  grad ${e.grad_norm.toFixed(3)}  ${Math.round(e.tokens_per_s)} tok/s  ETA ${formatDuration(eta)}`;
}

export function evalText(e: EvalEvent): string {
  const acc = e.val_accuracy !== undefined ? `  val accuracy ${(100 * e.val_accuracy).toFixed(1)}%` : '';
  return `step ${e.step}  val loss ${e.val_loss.toFixed(4)}${acc}`;
}
