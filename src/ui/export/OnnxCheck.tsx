import { formatDifference } from '../../onnx/verify.ts';
import type { OnnxRun, OnnxVerification } from '../../worker/protocol.ts';

const numbers = (r: OnnxRun, dtype: string) =>
  `relative ${formatDifference(r.maxRel)} of the largest logit ${r.scale.toFixed(2)}, ${dtype} tolerance ${formatDifference(r.tolerance)}`;

/**
 * What the check of an ONNX export in ONNX Runtime found, in words. Every backend that did not
 * match is an alert: a wrong file when no backend matched, an imprecise backend when WASM did.
 */
export function OnnxCheck({ v }: { v: OnnxVerification }) {
  const passed = v.runs.find((r) => r.ok) ?? null;
  const failed = v.runs.filter((r) => !r.ok);
  return (
    <>
      {passed ? (
        <>
          <p className="ok" data-testid="onnx-verified">
            Verified in ONNX Runtime ({passed.backend}): largest logit difference {formatDifference(passed.maxAbs)}
          </p>
          <p className="hint" data-testid="onnx-verified-detail">
            {numbers(passed, v.dtype)}; over {passed.positions === 1 ? 'the one position' : `all ${passed.positions} positions`} of the prompt &quot;{v.prompt}&quot; ({v.promptTokens} tokens),{' '}
            {v.adapterMerged ? 'adapter merged' : 'base model'}.
          </p>
        </>
      ) : null}
      {failed.map((r) => (
        <div key={r.backend} role="alert" className="alert" data-testid={passed ? 'onnx-backend-mismatch' : 'onnx-mismatch'}>
          <p className="alert-title">
            {passed ? `ONNX Runtime's ${r.backend} backend on this device` : `The export in ONNX Runtime (${r.backend})`} differs from the engine: largest logit difference{' '}
            {formatDifference(r.maxAbs)}
          </p>
          <p>
            {numbers(r, v.dtype)}; worst at prompt position {r.worstPosition + 1} of {r.positions}.{' '}
            {passed
              ? `The ${passed.backend} backend matches, so the file is right: this device's WebGPU math is less precise than the studio's (the graph computes RoPE with sin and cos, which WebGPU promises only to about three digits). transformers.js on this device's ${r.backend} backend may answer slightly differently.`
              : v.dtype === 'f16'
                ? 'Rounding the weights to f16 moves this model too far: transformers.js would not answer as the studio does. Export in f32 instead.'
                : 'Do not deploy this file: transformers.js would not answer as the studio does. Report the model name and these numbers.'}
          </p>
        </div>
      ))}
      {v.webgpuSkipped ? (
        <p className="hint" data-testid="onnx-webgpu-skipped">
          ONNX Runtime&apos;s WebGPU backend did not start here ({v.webgpuSkipped}), so the check ran on WASM.
        </p>
      ) : null}
    </>
  );
}
