import { ExportPanel } from '../export/ExportPanel.tsx';
import { GgufExport } from '../export/GgufExport.tsx';
import { GpuServerExport } from '../export/GpuServerExport.tsx';
import { OnnxExport } from '../export/OnnxExport.tsx';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 6: adapter and merged-model downloads, adapter import, GGUF for llama.cpp/ollama, ONNX for transformers.js, and a GPU-server project. */
export function ExportStep() {
  return (
    <StepSection step={stepInfo('step-export')}>
      <ExportPanel />
      <GgufExport />
      <OnnxExport />
      <GpuServerExport />
    </StepSection>
  );
}
