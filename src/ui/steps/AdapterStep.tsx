import { useState } from 'react';
import { AdapterSummaryPanel } from '../adapter/AdapterSummaryPanel.tsx';
import { AdvancedSettings } from '../adapter/AdvancedSettings.tsx';
import { PresetPicker } from '../adapter/PresetPicker.tsx';
import { useStore } from '../store.ts';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 3: presets first, every setting one click away, and the live cost of the choice. */
export function AdapterStep() {
  const [open, setOpen] = useState(false);
  const modelName = useStore((s) => s.modelName);
  const loaded = useStore((s) => s.modelLoaded);
  return (
    <StepSection step={stepInfo('step-adapter')}>
      {loaded ? null : (
        <p className="note" data-testid="default-model-note">
          Sizes are worked out for <strong>{modelName}</strong> until you choose a model in step 1.
        </p>
      )}
      <div className="adapter-layout">
        <div>
          <PresetPicker />
          <button type="button" className="disclosure" aria-expanded={open} aria-controls="advanced-settings" onClick={() => setOpen(!open)}>
            <span aria-hidden="true">{open ? '▾' : '▸'}</span> Advanced settings
          </button>
          {open ? <AdvancedSettings /> : null}
        </div>
        <AdapterSummaryPanel />
      </div>
    </StepSection>
  );
}
