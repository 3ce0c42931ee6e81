import { useEffect } from 'react';
import { formatBytes } from '../gpu/pool.ts';
import { useStore } from './store.ts';

/** What GPU the studio found, in plain words, and a one-click check that it computes correctly. */
export function GpuPanel() {
  const gpu = useStore((s) => s.gpu);
  const selfTest = useStore((s) => s.selfTest);
  const detectGpu = useStore((s) => s.detectGpu);
  const runSelfTest = useStore((s) => s.runSelfTest);

  useEffect(() => {
    if (gpu.status === 'idle') void detectGpu();
  }, [gpu.status, detectGpu]);

  return (
    <section aria-labelledby="gpu-heading" className="gpu-panel">
      <h3 id="gpu-heading">Your GPU</h3>
      {gpu.status === 'idle' || gpu.status === 'checking' ? <p>Looking for a GPU…</p> : null}
      {gpu.status === 'unavailable' ? (
        <p role="alert" className="error" data-testid="gpu-unavailable">
          {gpu.message}
        </p>
      ) : null}
      {gpu.status === 'ready' ? (
        <>
          <p data-testid="gpu-name">
            Found: <strong>{gpu.name}</strong>
          </p>
          <dl className="facts">
            <dt>Largest buffer (memory block)</dt>
            <dd>{formatBytes(gpu.adapter.maxStorageBufferBindingSize)}</dd>
            <dt>Half precision (shader-f16)</dt>
            <dd>{gpu.adapter.shaderF16 ? 'available: faster training' : 'not available: training uses full precision'}</dd>
            <dt>Workgroup memory</dt>
            <dd>{formatBytes(gpu.adapter.maxComputeWorkgroupStorageSize)}</dd>
            <dt>Subgroups</dt>
            <dd>
              {gpu.adapter.subgroups
                ? `available (size ${gpu.adapter.subgroupMinSize === gpu.adapter.subgroupMaxSize ? gpu.adapter.subgroupMinSize : `${gpu.adapter.subgroupMinSize}–${gpu.adapter.subgroupMaxSize}`}): faster norms and loss`
                : 'not available: norms and loss reduce through workgroup memory'}
            </dd>
          </dl>
          <button type="button" onClick={() => void runSelfTest()} disabled={selfTest.status === 'running'}>
            Check that this GPU computes correctly
          </button>
          <SelfTestStatus />
        </>
      ) : null}
    </section>
  );
}

function SelfTestStatus() {
  const selfTest = useStore((s) => s.selfTest);
  if (selfTest.status === 'running') return <p aria-live="polite">Running the GPU check…</p>;
  if (selfTest.status === 'failed') return <p role="alert" className="error">{selfTest.message}</p>;
  if (selfTest.status !== 'done') return null;
  const { result } = selfTest;
  return (
    <p aria-live="polite" data-testid="self-test" className={result.ok ? 'ok' : 'error'}>
      {result.ok ? 'GPU check passed' : 'GPU check FAILED: results differ from the CPU'} ({result.checks.map((c) => `${c.name} max error ${c.maxError.toExponential(1)}`).join(', ')}; {result.ms.toFixed(0)} ms)
    </p>
  );
}
