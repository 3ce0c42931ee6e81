/** What a training run reports, and how it can be driven (the studio's worker and the CLI). */

/** One optimizer step, reported after its loss and gradient norm are read back. */
export interface StepEvent {
  /** 1-based optimizer step. */
  step: number;
  /** Mean cross-entropy over the answer tokens of the step's (accumulated) batch. */
  loss: number;
  /** The learning rate the step used. */
  lr: number;
  /** Global L2 norm of the gradients before clipping. */
  grad_norm: number;
  /** Real (non-padding) tokens per second over the whole run (runPace). */
  tokens_per_s: number;
  /** Seconds left at the run's pace so far (runPace). */
  eta_s: number;
  /** Training seconds so far (pauses excluded, earlier sessions of a resumed run included). */
  elapsed_s: number;
  /** Epochs done, fractional. */
  epoch: number;
}

export interface EvalEvent {
  step: number;
  val_loss: number;
  /** When outputs are labels: share of validation rows whose label scores best. */
  val_accuracy?: number;
  /** When outputs are labels: macro-F1 of the same predictions. */
  val_macro_f1?: number;
}

export interface TrainHooks {
  onStep?: (e: StepEvent) => void;
  onEval?: (e: EvalEvent) => void;
  /** Aborting stops the run after the step in flight; the adapter is kept. */
  signal?: AbortSignal;
  /** Called before each step; when it returns a promise the run waits for it (pause/resume). */
  pause?: () => Promise<void> | null | undefined;
  /** Stop once this many optimizer steps are done (a part of the run; resume continues it). */
  stopAfter?: number;
  /** Called once the run is idle at a pause (every step settled), before it waits. */
  onPause?: () => Promise<void> | void;
  /** Call `onCheckpoint` every this many steps (0 or unset: never), with every step before it settled and finite. */
  checkpointEvery?: number;
  onCheckpoint?: (trainer: import('./trainer.ts').Trainer) => Promise<void>;
}

export type StopReason = 'done' | 'stopped' | 'early-stopped' | 'non-finite';

export interface TrainResult {
  reason: StopReason;
  /** Optimizer steps done. */
  steps: number;
  /** Why the run stopped early, for people. */
  message: string | null;
  /** Loss of the last good step. */
  lastLoss: number | null;
  bestValLoss: number | null;
  bestStep: number | null;
  lastEval: EvalEvent | null;
  elapsedS: number;
}
