import { CompareSettings } from '../compare/CompareSettings.tsx';
import { CompareTable } from '../compare/CompareTable.tsx';
import { FreePrompt } from '../compare/FreePrompt.tsx';
import { scoredLabels } from '../../train/data.ts';
import { heldOutRows, MAX_TEXT_ROWS, WRITE_LABEL_ROWS } from '../state/compareSlice.ts';
import { useStore } from '../store.ts';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 5: base and tuned outputs side by side on held-out rows and on free prompts. */
export function CompareStep() {
  // while a run trains (not paused) the GPU is its own: compare before, at a pause, or after
  const ready = useStore((s) => s.adapterInfo !== null && s.modelSummary !== null && s.trainStatus !== 'running' && s.trainStatus !== 'stopping');
  const hasData = useStore((s) => s.dataset !== null);
  const labelled = useStore((s) => (s.dataset ? scoredLabels(s.dataset.parsed.rows) !== null : false));
  const busy = useStore((s) => s.compareBusy);
  const problem = useStore((s) => s.compareProblem);
  const heldCount = useStore((s) => heldOutRows(s)?.indices.length ?? 0);
  const pausedAt = useStore((s) => (s.trainStatus === 'paused' ? s.pausedAt : null));
  return (
    <StepSection step={stepInfo('step-compare')}>
      {!ready ? <p className="hint">Train an adapter in step 4 (or import one in step 6) to compare it with the base model.</p> : null}
      {pausedAt !== null ? (
        <p className="note" data-testid="compare-paused">
          Training is paused at step {pausedAt}: this compares the adapter as it stands now. Resume training when you are done.
        </p>
      ) : null}
      <CompareSettings />
      <button type="button" disabled={!ready || !hasData || busy} onClick={() => void useStore.getState().compareHeldOut()}>
        Compare on the {heldCount} held-out rows
      </button>
      {hasData ? (
        <p className="hint">
          {labelled
            ? `Every held-out row is scored for both models by the likeliest label; what each writes freely is shown for the first ${WRITE_LABEL_ROWS}.`
            : `Both models answer the first ${MAX_TEXT_ROWS} held-out rows; the answers are scored against the expected ones.`}
        </p>
      ) : null}
      {busy ? (
        <p aria-live="polite" className="hint">
          Both models are answering…
        </p>
      ) : null}
      {problem ? (
        <p role="alert" className="alert" data-testid="compare-problem">
          {problem}
        </p>
      ) : null}
      <CompareTable />
      <FreePrompt />
    </StepSection>
  );
}
