import { CompareSettings } from '../compare/CompareSettings.tsx';
import { CompareTable } from '../compare/CompareTable.tsx';
import { FreePrompt } from '../compare/FreePrompt.tsx';
import { COMPARE_ROWS } from '../state/compareSlice.ts';
import { useStore } from '../store.ts';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 5: base and tuned outputs side by side on held-out rows and on free prompts. */
export function CompareStep() {
  const ready = useStore((s) => s.adapterInfo !== null && s.modelSummary !== null);
  const hasData = useStore((s) => s.dataset !== null);
  const busy = useStore((s) => s.compareBusy);
  const problem = useStore((s) => s.compareProblem);
  return (
    <StepSection step={stepInfo('step-compare')}>
      {!ready ? <p className="hint">Train an adapter in step 4 (or import one in step 6) to compare it with the base model.</p> : null}
      <CompareSettings />
      <button type="button" disabled={!ready || !hasData || busy} onClick={() => void useStore.getState().compareHeldOut()}>
        Compare on {COMPARE_ROWS} held-out rows
      </button>
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
