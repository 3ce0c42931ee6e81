import { useEffect } from 'react';
import { RunHistory } from '../history/RunHistory.tsx';
import { TrainCharts } from '../train/TrainCharts.tsx';
import { ResumeBanner, TrainControls, TrainMessages } from '../train/TrainControls.tsx';
import { TrainStats } from '../train/TrainStats.tsx';
import { useStore } from '../store.ts';
import { StepSection, stepInfo } from './StepSection.tsx';

/** Step 4: start, pause, resume or stop a run, and watch it live; a reload offers to resume it. */
export function TrainStep() {
  const status = useStore((s) => s.trainStatus);
  const info = useStore((s) => s.trainInfo);
  useEffect(() => {
    void useStore.getState().findSavedRun();
    void useStore.getState().loadHistory();
  }, []);
  return (
    <StepSection step={stepInfo('step-train')}>
      <ResumeBanner />
      <TrainControls />
      <TrainMessages />
      {status !== 'idle' ? (
        <>
          {info ? (
            <p className="hint" data-testid="train-info">
              Training on {info.trainRows} rows, checking on {info.valRows} held-out rows{info.labels ? ` (labels: ${info.labels.join(', ')})` : ''}.
            </p>
          ) : null}
          <TrainStats />
          <TrainCharts />
        </>
      ) : null}
      <RunHistory />
    </StepSection>
  );
}
