import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 5: base and tuned outputs side by side; the section carries the heading and summary. */
export function CompareStep() {
  return <StepSection step={stepInfo('step-compare')} />;
}
