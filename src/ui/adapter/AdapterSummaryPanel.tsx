import { useMemo } from 'react';
import { formatBytes } from '../../gpu/pool.ts';
import { parameterCount } from '../../model/config.ts';
import { adapterSummary } from '../adapter-settings.ts';
import { DEFAULT_GPU_BUDGET_BYTES } from '../estimate.ts';
import { useStore } from '../store.ts';

const count = (n: number) => n.toLocaleString('en-US');

/** Trainable parameters, adapter file size and the GPU memory estimate, updated on every change. */
export function AdapterSummaryPanel() {
  const config = useStore((s) => s.modelConfig);
  const settings = useStore((s) => s.adapterSettings);
  const gpu = useStore((s) => s.gpu);
  const limits = gpu.status === 'ready' ? gpu.adapter : null;
  const fourBit = useStore((s) => s.modelSummary?.baseQuant != null);
  const summary = useMemo(() => adapterSummary(config, settings, limits, fourBit ? '4bit' : 'source'), [config, settings, limits, fourBit]);
  const total = useMemo(() => parameterCount(config), [config]);
  const { memory, verdict } = summary;
  return (
    <div className="summary" aria-live="polite" data-testid="adapter-summary">
      <h3>What this adapter costs</h3>
      <dl className="facts">
        <dt>Numbers it learns (trainable parameters)</dt>
        <dd data-testid="trainable-params">
          {count(summary.trainableParams)} ({((100 * summary.trainableParams) / total).toFixed(2)}% of the model’s {(total / 1e6).toFixed(1)} million)
        </dd>
        <dt>Adapter file size</dt>
        <dd data-testid="adapter-size">{formatBytes(summary.adapterFileBytes)}</dd>
        <dt>GPU memory while training (planned)</dt>
        <dd data-testid="memory-estimate">
          {formatBytes(memory.totalBytes)}: model {formatBytes(memory.frozenBytes)}, work in progress (activations) {formatBytes(memory.activationBytes)}, adapter with
          its optimizer state {formatBytes(memory.loraBytes)}
          {memory.recompute > 0 ? `; activations recomputed while learning${memory.recompute > 1 ? ` (every ${memory.recompute} layers kept)` : ''}, to fit` : ''}
        </dd>
        <dt>Learning rate and length</dt>
        <dd data-testid="preset-suggestion">
          {settings.suggestion
            ? `Suggested by the preset: ${settings.suggestion}`
            : `Learning rate ${settings.training.learningRate}, ${settings.training.epochs} epochs (set by hand).`}
        </dd>
      </dl>
      {summary.problems.length > 0 ? (
        <ul className="warnings" role="alert">
          {summary.problems.map((p) => (
            <li key={p} className="warn">
              {p}
            </li>
          ))}
        </ul>
      ) : null}
      <p className={verdict.fits ? 'verdict ok' : 'verdict warn'} data-testid="memory-verdict">
        {verdict.fits ? 'Fits' : `May not fit: ${verdict.advice}`}
        {verdict.fits ? `: within this GPU’s limits and under the ${formatBytes(DEFAULT_GPU_BUDGET_BYTES)} most GPUs give a page.` : '.'}
      </p>
      {limits ? null : <p className="hint">Compared with typical limits: the GPU has not been checked yet (step 1).</p>}
    </div>
  );
}
