import { useStore } from '../store.ts';

/** "Continue on a GPU server": the run as a Hugging Face TRL + PEFT project, zipped. */
export function GpuServerExport() {
  const busy = useStore((s) => s.exportBusy);
  const modelReady = useStore((s) => s.modelSummary !== null);
  const hasData = useStore((s) => (s.dataset?.parsed.rows.length ?? 0) > 0);
  const { exportGpuServer } = useStore.getState();
  return (
    <div className="gpu-server-export" data-testid="gpu-server-export">
      <h3>When the browser is not enough: continue on a GPU server</h3>
      <p className="hint">
        A folder that trains the same adapter with Hugging Face TRL and PEFT: <code>train.py</code> with this run&apos;s settings, pinned <code>requirements.txt</code>, an{' '}
        <code>accelerate</code> config for several GPUs (DeepSpeed ZeRO-2), the same run for axolotl, your rows already in the training prompt format, and the adapter trained
        so far to continue from. The result imports back here.
      </p>
      <div className="button-row">
        <button type="button" className="secondary" disabled={!modelReady || !hasData || busy !== null} onClick={() => void exportGpuServer()}>
          Download the GPU server folder (.zip)
        </button>
      </div>
      {!hasData ? <p className="hint">Upload data in step 2 first.</p> : null}
    </div>
  );
}
