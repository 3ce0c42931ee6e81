import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 6: adapter and merged-model downloads; the section carries the heading and summary. */
export function ExportStep() {
  return <StepSection step={stepInfo('step-export')} />;
}
