/**
 * Wall-clock timing of GPU work: warm up (pipelines compile, buffers settle), then submit batches
 * of iterations and wait for the queue to drain, doubling the batch until it lasts `targetMs`.
 * The result is throughput time per iteration, CPU encoding overhead included, the same way for
 * every implementation compared.
 */
export interface TimingOptions {
  /** Untimed runs first (the agreement check before timing already compiled every pipeline). */
  warmup: number;
  /** Keep doubling the batch until one batch takes at least this long… */
  targetMs: number;
  /** …or holds this many iterations. */
  maxIters: number;
  /**
   * Implementations compared in one case are timed in turn this many times, and each keeps its
   * fastest round: a burst of load from elsewhere on the machine then slows one round of each
   * rather than all of one implementation.
   */
  rounds: number;
}

export const DEFAULT_TIMING: TimingOptions = { warmup: 0, targetMs: 250, maxIters: 256, rounds: 3 };
export const QUICK_TIMING: TimingOptions = { warmup: 0, targetMs: 40, maxIters: 32, rounds: 1 };

/** `step` records and submits one iteration; `drain` resolves when all submitted work is done. */
export async function timePerIteration(step: () => void, drain: () => Promise<void>, o: TimingOptions): Promise<number> {
  for (let i = 0; i < o.warmup; i++) step();
  await drain();
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) step();
    await drain();
    const ms = performance.now() - t0;
    if (ms >= o.targetMs || iters >= o.maxIters) return ms / iters;
    // Aim past the target in one jump when the estimate allows, at most ×8 per round.
    iters = Math.min(o.maxIters, iters * Math.min(8, Math.max(2, Math.ceil((1.2 * o.targetMs) / Math.max(ms, 0.01)))));
  }
}

/** Milliseconds per iteration of each implementation: the fastest of `rounds` interleaved rounds. */
export async function timeInTurn(impls: readonly { step: () => void; drain: () => Promise<void> }[], o: TimingOptions): Promise<number[]> {
  const best = impls.map(() => Infinity);
  for (let r = 0; r < Math.max(1, o.rounds); r++) {
    for (const [i, impl] of impls.entries()) best[i] = Math.min(best[i], await timePerIteration(impl.step, impl.drain, o));
  }
  return best;
}

/** GFLOP/s from a FLOP count and milliseconds per run. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}
