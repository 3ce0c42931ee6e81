import { CHECKPOINT_FILE, parseCheckpoint, serializeCheckpoint, type Checkpoint } from '../train/checkpoint.ts';
import { openRunStorage, StorageFullError, type RunStorage } from '../train/storage-browser.ts';
import { Trainer } from '../train/trainer.ts';
import { TEXT_EVAL_ROWS } from '../eval/held-out.ts';
import type { TrainResult as EngineTrainResult } from '../train/events.ts';
import type { TrainEvent, TrainRequest, TrainResult } from './protocol.ts';
import { dropInference } from './compare-handlers.ts';
import { ensureTuned, getGpu, requireModel, session } from './session.ts';

/** The run in progress: how the page's pause, resume and stop reach the trainer. */
let control: { abort: AbortController; paused: { promise: Promise<void>; resume: () => void } | null } | null = null;
/** The run's progress stream, so that pause and resume are reported on it. */
let report: ((e: TrainEvent) => void) | null = null;

export function trainControl(action: 'pause' | 'resume' | 'stop'): null {
  if (!control) return null;
  if (action === 'pause' && !control.paused) {
    let resume: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resume = r));
    control.paused = { promise, resume };
  } else if (action !== 'pause') {
    const wasPaused = control.paused !== null;
    // the network Compare built on the paused adapter gives its memory back to training
    if (wasPaused) dropInference();
    control.paused?.resume();
    control.paused = null;
    if (action === 'stop') control.abort.abort();
    else if (wasPaused) report?.({ type: 'resumed' });
  }
  return null;
}

async function storageFor(run: TrainRequest, warn: (m: string) => void): Promise<RunStorage | null> {
  if (run.checkpointEvery <= 0 && !run.resume) return null;
  try {
    return await openRunStorage();
  } catch (e) {
    warn(`${(e as Error).message}.`);
    return null;
  }
}

async function loadCheckpoint(storage: RunStorage | null): Promise<Checkpoint> {
  const bytes = await storage?.get(CHECKPOINT_FILE);
  if (!bytes) throw Object.assign(new Error('No saved checkpoint was found in this browser; start the run again.'), { kind: 'no-checkpoint' });
  return parseCheckpoint(bytes, `the saved checkpoint (${CHECKPOINT_FILE})`);
}

/**
 * Runs training; every `checkpointEvery` steps (inside the trainer's loop, once the steps are read
 * back and finite) and on stop the run is saved to the browser's storage. A full storage turns
 * checkpoints off and the run goes on. At a pause the adapter as it stands is held, so Compare and
 * Export work on it; resuming drops the inference network that comparing built.
 */
export async function train(run: TrainRequest, progress: (e: TrainEvent) => void): Promise<TrainResult> {
  if (control) throw Object.assign(new Error('A training run is already going; stop it before starting another.'), { kind: 'busy' });
  const model = requireModel('train');
  const gpu = await getGpu();
  dropInference();
  const warn = (message: string) => progress({ type: 'warning', message });
  await ensureTuned(gpu, () => progress({ type: 'tuning' }), warn);
  let storage = await storageFor(run, warn);
  const checkpoint = run.resume ? await loadCheckpoint(storage) : undefined;
  const init = run.initFromAdapter && session.adapter ? session.adapter.params : undefined;
  const trainer = await Trainer.create(gpu, model, run.rows, run.options, { checkpoint, params: init });
  control = { abort: new AbortController(), paused: null };
  report = progress;
  const c = control;
  try {
    const total = trainer.state.totalSteps;
    const d = trainer.data;
    progress({ type: 'start', totalSteps: total, step: trainer.state.step, trainRows: d.train.length, valRows: d.val.length, labels: d.labels });
    const save = async () => {
      if (!storage) return;
      try {
        const bytes = serializeCheckpoint(await trainer.checkpoint());
        await storage.put(CHECKPOINT_FILE, bytes);
        progress({ type: 'checkpoint', step: trainer.state.step, bytes: bytes.length });
      } catch (e) {
        if (!(e instanceof StorageFullError)) throw e;
        warn(`Checkpoints are off for this run: ${e.message}. Training goes on; a reload would lose it.`);
        storage = null;
      }
    };
    const hold = (params: Float32Array) => {
      session.adapter = { cfg: trainer.options.adapter, layout: trainer.layout, params, source: 'trained' };
    };
    let lastAccuracy: number | null = null;
    let lastVal: number | null = null;
    const result: EngineTrainResult = await trainer.run({
      signal: c.abort.signal,
      pause: () => c.paused?.promise ?? null,
      checkpointEvery: storage ? run.checkpointEvery : 0,
      onCheckpoint: () => save(),
      onPause: async () => {
        dropInference();
        hold(await trainer.adapterParams('last'));
        session.lastRun = { trainRows: d.train.length, valRows: d.val.length, finalLoss: null, valLoss: lastVal, accuracy: lastAccuracy, options: trainer.options, evaluation: null };
        progress({ type: 'paused', step: trainer.state.step });
      },
      onStep: (e) => {
        progress({ type: 'step', step: e.step, totalSteps: total, loss: e.loss, lr: e.lr, gradNorm: e.grad_norm, tokensPerS: e.tokens_per_s, etaS: e.eta_s, gpuBytes: gpu.pool.liveBytes });
      },
      onEval: (e) => {
        lastVal = e.val_loss;
        lastAccuracy = e.val_accuracy ?? null;
        progress({ type: 'eval', step: e.step, valLoss: e.val_loss, accuracy: lastAccuracy, macroF1: e.val_macro_f1 ?? null });
      },
    });
    if (result.reason === 'stopped') await save();
    dropInference();
    if (result.steps > 0 && d.valRows.length > 0) progress({ type: 'evaluating', rows: d.labels ? d.valRows.length : Math.min(d.valRows.length, TEXT_EVAL_ROWS) });
    const final = result.reason === 'non-finite' && result.steps === 0 ? null : await trainer.finalEvaluation();
    const evaluation = final ? { step: final.step, base: final.base, tuned: final.tuned } : null;
    const accuracy = evaluation?.tuned.kind === 'labels' ? evaluation.tuned.accuracy : lastAccuracy;
    hold(await trainer.adapterParams('best'));
    session.lastRun = { trainRows: d.train.length, valRows: d.val.length, finalLoss: result.lastLoss, valLoss: lastVal, accuracy, options: trainer.options, evaluation };
    const status = result.reason === 'done' ? 'done' : result.reason;
    return { status, step: trainer.state.step, totalSteps: total, finalLoss: result.lastLoss, valLoss: lastVal, accuracy, message: result.message, evaluation };
  } finally {
    control = null;
    report = null;
    trainer.destroy();
  }
}
