import { formatBytes } from '../../gpu/pool.ts';
import { useLiveSnapshot } from './useLive.ts';

function duration(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return '—';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Step counter, speed, time left and GPU memory of the run in progress. */
export function TrainStats() {
  const s = useLiveSnapshot((r) => ({ step: r.step, total: r.totalSteps, tps: r.tokensPerS, eta: r.etaS, gpu: r.gpuBytes, loss: r.steps.at(-1)?.loss ?? null }), 200);
  return (
    <dl className="facts train-stats" aria-live="off">
      <dt>Step</dt>
      <dd data-testid="train-step">
        {s.step} of {s.total}
      </dd>
      <dt>Loss now</dt>
      <dd data-testid="train-loss">{s.loss === null ? '—' : s.loss.toFixed(4)}</dd>
      <dt>Speed</dt>
      <dd>{s.tps > 0 ? `${Math.round(s.tps).toLocaleString('en-US')} tokens/s` : '—'}</dd>
      <dt>Time left</dt>
      <dd>{s.step >= s.total && s.total > 0 ? 'none' : duration(s.eta)}</dd>
      <dt>GPU memory in use</dt>
      <dd data-testid="train-gpu-memory">{s.gpu > 0 ? formatBytes(s.gpu) : '—'}</dd>
    </dl>
  );
}
