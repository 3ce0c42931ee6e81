import { useStore } from '../store.ts';
import { FinalEvaluation } from './FinalEvaluation.tsx';

/** Start, pause, resume and stop; the run's own settings (steps limit, checkpoints). */
export function TrainControls() {
  const status = useStore((s) => s.trainStatus);
  const ready = useStore((s) => s.modelLoaded && s.modelSummary !== null && s.dataset !== null);
  const maxSteps = useStore((s) => s.maxSteps);
  const every = useStore((s) => s.checkpointEvery);
  const imported = useStore((s) => s.adapterInfo?.source === 'imported');
  const continueImported = useStore((s) => s.continueImported);
  const compareBusy = useStore((s) => s.compareBusy || s.exportBusy !== null);
  const { startTraining, controlTraining, setMaxSteps, setCheckpointEvery, setContinueImported } = useStore.getState();
  const active = status === 'running' || status === 'paused' || status === 'stopping';
  return (
    <div className="train-controls">
      <div className="train-settings">
        <div className="field narrow">
          <label htmlFor="max-steps">Stop after this many steps (empty: the epochs of step 3)</label>
          <input id="max-steps" type="number" min={1} value={maxSteps ?? ''} disabled={active} onChange={(e) => setMaxSteps(e.target.value === '' ? null : Number(e.target.value))} />
        </div>
        <div className="field narrow">
          <label htmlFor="checkpoint-every">Save the run every N steps (0: never)</label>
          <input id="checkpoint-every" type="number" min={0} value={every} disabled={active} onChange={(e) => setCheckpointEvery(Number(e.target.value))} />
        </div>
        {imported ? (
          <label className="check">
            <input type="checkbox" checked={continueImported} disabled={active} onChange={(e) => setContinueImported(e.target.checked)} /> Continue training the imported adapter
          </label>
        ) : null}
      </div>
      <div className="button-row">
        <button type="button" disabled={!ready || active} onClick={() => void startTraining()}>
          Start training
        </button>
        {status === 'paused' ? (
          <button type="button" disabled={compareBusy} onClick={() => void controlTraining('resume')}>
            Resume
          </button>
        ) : (
          <button type="button" className="secondary" disabled={status !== 'running'} onClick={() => void controlTraining('pause')}>
            Pause
          </button>
        )}
        <button type="button" className="secondary" disabled={!active || status === 'stopping'} onClick={() => void controlTraining('stop')}>
          Stop
        </button>
      </div>
      {!ready ? <p className="hint">Load a model in step 1 and a dataset in step 2 to train.</p> : null}
    </div>
  );
}

/** "Resume the run from step N": offered after a reload (or a stop) when a checkpoint is saved. */
export function ResumeBanner() {
  const saved = useStore((s) => s.savedRun);
  const status = useStore((s) => s.trainStatus);
  const modelName = useStore((s) => (s.modelLoaded && s.modelSummary ? s.modelName : null));
  if (!saved || status === 'running' || status === 'paused' || status === 'stopping') return null;
  const sameModel = modelName === saved.modelName;
  return (
    <div className="note resume" data-testid="resume-banner">
      <p>
        A run on <strong>{saved.dataFile}</strong> with <strong>{saved.modelName}</strong> is saved in this browser at step {saved.checkpointStep} of {saved.totalSteps}. Its data and settings come
        back with it.
      </p>
      {sameModel ? null : (
        <p className="hint">Load {saved.modelName} again in step 1 first (from this browser's cache, or the same file from disk): models are not kept with runs.</p>
      )}
      <div className="button-row">
        <button type="button" disabled={!sameModel} onClick={() => void useStore.getState().resumeSavedRun()}>
          Resume the run from step {saved.checkpointStep}
        </button>
        <button type="button" className="secondary" onClick={() => void useStore.getState().discardSavedRun()}>
          Discard it
        </button>
      </div>
    </div>
  );
}

/** What happened to the run: finished, stopped, failed (with what to do), and storage warnings. */
export function TrainMessages() {
  const status = useStore((s) => s.trainStatus);
  const result = useStore((s) => s.trainResult);
  const problem = useStore((s) => s.trainProblem);
  const warnings = useStore((s) => s.trainWarnings);
  const pausedAt = useStore((s) => s.pausedAt);
  const evaluating = useStore((s) => s.evaluatingRows);
  const tuning = useStore((s) => s.tuningKernels);
  return (
    <div aria-live="polite" data-testid="train-messages">
      {status === 'paused' ? (
        <p className="note" data-testid="train-paused">
          Paused{pausedAt !== null ? ` at step ${pausedAt}` : ''}. The GPU is idle; compare or export the adapter as it stands (steps 5 and 6), and resume when you are ready.
        </p>
      ) : null}
      {status === 'stopping' ? <p className="note">Stopping after the current step…</p> : null}
      {tuning ? <p className="note">Timing the matrix kernels on this GPU before the first run (once; the fastest is kept in this browser)…</p> : null}
      {evaluating !== null ? <p className="note">Evaluating the adapter and the base model on {evaluating} held-out rows…</p> : null}
      {status === 'done' && result ? (
        <p className="ok" data-testid="train-done">
          Training finished after {result.step} {result.step === 1 ? 'step' : 'steps'}{result.valLoss !== null ? `; validation loss ${result.valLoss.toFixed(4)}` : ''}. Compare the model in step 5.
        </p>
      ) : null}
      {result?.evaluation ? <FinalEvaluation evaluation={result.evaluation} /> : null}
      {status === 'stopped' && result ? <p className="note">Stopped at step {result.step}. The adapter so far is kept: compare or export it.</p> : null}
      {problem ? (
        <p role="alert" className="alert" data-testid="train-problem">
          {problem}
          {result?.status === 'non-finite' ? ' The adapter before that step is kept.' : ''}
        </p>
      ) : null}
      {warnings.map((w) => (
        <p key={w} className="warn" role="status">
          {w}
        </p>
      ))}
    </div>
  );
}

