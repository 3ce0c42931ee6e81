/**
 * The training run's high-frequency data (one point per step) in a store of its own, outside the
 * page's React state: charts and counters read it through `subscribe` and redraw at most a few
 * times a second, so a fast run never re-renders the page once per step.
 */
import { createStore } from 'zustand/vanilla';
import type { TrainEvent } from '../../worker/protocol.ts';

export interface StepPoint {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export interface EvalPoint {
  step: number;
  valLoss: number;
  accuracy: number | null;
}

export interface LiveRun {
  steps: StepPoint[];
  evals: EvalPoint[];
  step: number;
  totalSteps: number;
  tokensPerS: number;
  etaS: number;
  gpuBytes: number;
  /** Bumped on every change; subscribers compare it to redraw. */
  version: number;
}

const empty = (): LiveRun => ({ steps: [], evals: [], step: 0, totalSteps: 0, tokensPerS: 0, etaS: 0, gpuBytes: 0, version: 0 });

export const liveRun = createStore<LiveRun>(() => empty());

/** Starts a new chart; a resumed run keeps the points it had (after a reload there are none). */
export function resetLive(keepPoints: boolean): void {
  const s = liveRun.getState();
  liveRun.setState(keepPoints ? { ...s, version: s.version + 1 } : { ...empty(), version: s.version + 1 });
}

/** Appends a worker event (arrays are appended in place; `version` tells readers to look again). */
export function applyLiveEvent(e: TrainEvent): void {
  const s = liveRun.getState();
  if (e.type === 'start') {
    // a resumed run drops points past its checkpoint, which the stopped run had already drawn
    const steps = s.steps.filter((p) => p.step <= e.step);
    const evals = s.evals.filter((p) => p.step <= e.step);
    liveRun.setState({ steps, evals, step: e.step, totalSteps: e.totalSteps, version: s.version + 1 });
  } else if (e.type === 'step') {
    s.steps.push({ step: e.step, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm });
    liveRun.setState({ step: e.step, totalSteps: e.totalSteps, tokensPerS: e.tokensPerS, etaS: e.etaS, gpuBytes: e.gpuBytes, version: s.version + 1 });
  } else if (e.type === 'eval') {
    s.evals.push({ step: e.step, valLoss: e.valLoss, accuracy: e.accuracy });
    liveRun.setState({ version: s.version + 1 });
  }
}
