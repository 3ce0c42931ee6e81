import { ExportPanel } from '../export/ExportPanel.tsx';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 6: adapter and merged-model downloads, and adapter import. */
export function ExportStep() {
  return (
    <StepSection step={stepInfo('step-export')}>
      <ExportPanel />
    </StepSection>
  );
}
