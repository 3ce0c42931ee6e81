import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 4: training runs and their live charts; the section carries the heading and summary. */
export function TrainStep() {
  return <StepSection step={stepInfo('step-train')} />;
}
