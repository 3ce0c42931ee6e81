import { GpuPanel } from '../GpuPanel.tsx';
import { CacheList } from '../model/CacheList.tsx';
import { CuratedModels } from '../model/CuratedModels.tsx';
import { LocalModelFiles } from '../model/LocalModelFiles.tsx';
import { ModelAlert, ModelFacts, ModelProgressBar } from '../model/ModelStatus.tsx';
import { useStore } from '../store.ts';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 1: the base model (curated Hub list or files from disk), and the GPU it will run on. */
export function ModelStep() {
  const modelName = useStore((s) => s.modelName);
  const loaded = useStore((s) => s.modelLoaded);
  return (
    <StepSection step={stepInfo('step-model')}>
      <p data-testid="model-name">
        {loaded ? 'Model: ' : 'Until you choose a model, the other steps assume '}
        <strong>{modelName}</strong>
        {loaded ? '' : ' (135 million parameters, a good first choice).'}
      </p>
      <CuratedModels />
      <ModelProgressBar />
      <ModelAlert />
      <LocalModelFiles />
      <ModelFacts />
      <CacheList />
      <GpuPanel />
    </StepSection>
  );
}
