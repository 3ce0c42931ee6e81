import { ColumnMapping } from '../data/ColumnMapping.tsx';
import { DataAlert } from '../data/DataAlert.tsx';
import { DataCheck } from '../data/DataCheck.tsx';
import { DropZone } from '../data/DropZone.tsx';
import { PreviewTable } from '../data/PreviewTable.tsx';
import { SplitControl } from '../data/SplitControl.tsx';
import { useDataCheck } from '../data/useDataCheck.ts';
import { useStore } from '../store.ts';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 2: load a dataset, map its columns, check it, and split off validation rows. */
export function DataStep() {
  const dataset = useStore((s) => s.dataset);
  const check = useDataCheck();
  return (
    <StepSection step={stepInfo('step-data')}>
      <DropZone />
      <DataAlert />
      {dataset && check ? (
        <div className="dataset" data-testid="dataset">
          <p className="dataset-name" aria-live="polite">
            Loaded <strong data-testid="dataset-name">{dataset.fileName}</strong>: {dataset.parsed.rows.length} examples.
          </p>
          <ColumnMapping parsed={dataset.parsed} />
          <PreviewTable dataset={dataset} />
          <DataCheck parsed={dataset.parsed} check={check} />
          <SplitControl train={check.split.train.length} val={check.split.val.length} />
        </div>
      ) : null}
    </StepSection>
  );
}
