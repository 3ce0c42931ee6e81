import { ExportPanel } from '../export/ExportPanel.tsx';
import { OnnxExport } from '../export/OnnxExport.tsx';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 6: adapter and merged-model downloads, adapter import, and the ONNX export for transformers.js. */
export function ExportStep() {
  return (
    <StepSection step={stepInfo('step-export')}>
      <ExportPanel />
      <OnnxExport />
    </StepSection>
  );
}
