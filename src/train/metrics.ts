/** metrics.jsonl lines and the CLI's progress text. */
import type { EvalEvent, StepEvent } from './events.ts';

/** Finite numbers as they are; NaN and ±Inf as null (JSON has no such numbers). */
const num = (x: number) => (Number.isFinite(x) ? x : null);

/** One metrics.jsonl line per step: step, loss, lr, grad_norm, tokens_per_s, eta_s, elapsed_s, epoch. */
export function stepLine(e: StepEvent): string {
  return JSON.stringify({ step: e.step, loss: num(e.loss), lr: e.lr, grad_norm: num(e.grad_norm), tokens_per_s: num(e.tokens_per_s), eta_s: num(e.eta_s), elapsed_s: num(e.elapsed_s), epoch: e.epoch });
}

/** A validation line: step, val_loss and, for labels, val_accuracy and val_macro_f1. */
export function evalLine(e: EvalEvent): string {
  const labels = e.val_accuracy !== undefined ? { val_accuracy: e.val_accuracy, val_macro_f1: num(e.val_macro_f1 ?? Number.NaN) } : {};
  return JSON.stringify({ step: e.step, val_loss: num(e.val_loss), ...labels });
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Speed and time left of a run, the same for the CLI and the studio: over the whole run (every
 * session of a resumed run, pauses excluded), tokens/s = real tokens / training seconds and
 * ETA = seconds per step so far × steps left.
 */
export function runPace(r: { step: number; totalSteps: number; elapsedS: number; realTokens: number }): { tokensPerS: number; etaS: number } {
  if (!(r.elapsedS > 0) || r.step <= 0) return { tokensPerS: Number.NaN, etaS: Number.NaN };
  return { tokensPerS: r.realTokens / r.elapsedS, etaS: (r.elapsedS / r.step) * Math.max(0, r.totalSteps - r.step) };
}

export function progressText(e: StepEvent, totalSteps: number): string {
  return `step ${e.step}/${totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  grad ${e.grad_norm.toFixed(3)}  ${Math.round(e.tokens_per_s)} tok/s  ETA ${formatDuration(e.eta_s)}`;
}

export function evalText(e: EvalEvent): string {
  const acc = e.val_accuracy !== undefined ? `  val accuracy ${(100 * e.val_accuracy).toFixed(1)}% (likeliest label)` : '';
  return `step ${e.step}  val loss ${e.val_loss.toFixed(4)}${acc}`;
}
