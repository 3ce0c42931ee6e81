import type { ExportDtype } from '../../onnx/hf-config.ts';
import { VERIFY_TOLERANCE } from '../../onnx/verify.ts';
import { useStore } from '../store.ts';
import { OnnxCheck } from './OnnxCheck.tsx';

const DTYPES: { value: ExportDtype; label: string }[] = [
  { value: 'f32', label: 'f32: the weights exactly as the studio runs them' },
  { value: 'f16', label: 'f16: half the download, weights rounded to 16 bits' },
];

/** The model (adapter merged) for transformers.js and onnxruntime-web, checked in ONNX Runtime here. */
export function OnnxExport() {
  const info = useStore((s) => s.adapterInfo);
  const busy = useStore((s) => s.exportBusy);
  const modelReady = useStore((s) => s.modelSummary !== null);
  const dtype = useStore((s) => s.onnxDtype);
  const verification = useStore((s) => s.onnxVerification);
  const problem = useStore((s) => s.onnxProblem);
  const { exportOnnx, setOnnxDtype } = useStore.getState();
  return (
    <div className="onnx-export" data-testid="onnx-export">
      <h3>Deploy anywhere: ONNX</h3>
      <p className="hint">
        One folder that transformers.js and onnxruntime-web load as is (<code>onnx/model.onnx</code>, <code>config.json</code>, <code>tokenizer.json</code>), zipped.{' '}
        {info ? 'The adapter is merged into the weights.' : 'There is no adapter yet, so this is the base model.'} After the download the page runs the file in ONNX Runtime and
        compares its logits with the studio&apos;s on the first held-out row (or on &quot;Once upon a time&quot; before there is data).
      </p>
      <fieldset disabled={busy !== null}>
        <legend>Weights</legend>
        {DTYPES.map((d) => (
          <div key={d.value}>
            <label>
              <input type="radio" name="onnx-dtype" value={d.value} checked={dtype === d.value} onChange={() => setOnnxDtype(d.value)} /> {d.label} (checked to a logit difference of{' '}
              {VERIFY_TOLERANCE[d.value]} of the largest logit)
            </label>
          </div>
        ))}
      </fieldset>
      <div className="button-row">
        <button type="button" disabled={!modelReady || busy !== null} onClick={() => void exportOnnx()}>
          Export for transformers.js / ONNX Runtime
        </button>
      </div>
      {verification ? <OnnxCheck v={verification} /> : null}
      {problem ? (
        <p role="alert" className="alert" data-testid="onnx-problem">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
