import type { ChangeEvent } from 'react';
import { formatBytes } from '../../gpu/pool.ts';
import { readPicked } from '../model/read-files.ts';
import { useStore } from '../store.ts';

/** Downloads of the adapter (PEFT) and of the merged model, and the adapter import. */
export function ExportPanel() {
  const info = useStore((s) => s.adapterInfo);
  const busy = useStore((s) => s.exportBusy);
  const problem = useStore((s) => s.exportProblem);
  const last = useStore((s) => s.lastDownload);
  const modelReady = useStore((s) => s.modelSummary !== null);
  const { exportAdapter, exportMerged, importAdapter } = useStore.getState();
  const onImport = (e: ChangeEvent<HTMLInputElement>) => {
    const input = e.target;
    const files = input.files ? [...input.files] : [];
    if (files.length === 0) return;
    void readPicked(files)
      .then((picked) => importAdapter(picked, files.length === 1 ? files[0].name : 'the chosen files'))
      .finally(() => (input.value = ''));
  };
  return (
    <div className="export-panel">
      {info ? (
        <p data-testid="adapter-info">
          Adapter: rank {info.adapter.rank}, alpha {info.adapter.alpha}, on {Array.isArray(info.adapter.targets) ? info.adapter.targets.join(', ') : info.adapter.targets} (
          {info.trainableParams.toLocaleString('en-US')} parameters), {info.source === 'imported' ? 'imported' : 'trained here'}.
        </p>
      ) : (
        <p className="hint">Train an adapter in step 4, or import one below.</p>
      )}
      <div className="button-row">
        <button type="button" disabled={!info || busy !== null} onClick={() => void exportAdapter()}>
          Download the adapter (PEFT .zip)
        </button>
        <button type="button" className="secondary" disabled={!info || busy !== null} onClick={() => void exportMerged()}>
          Download the merged model (.zip)
        </button>
      </div>
      <p className="hint">
        The adapter zip holds <code>adapter_config.json</code>, <code>adapter_model.safetensors</code> and a <code>README.md</code> model card; Hugging Face PEFT, vLLM and llama.cpp&apos;s converter
        load it unchanged. The merged model is a Hugging Face folder (weights with the adapter folded in, config and tokenizer files); a GGUF model becomes one too.
      </p>
      {busy ? <p aria-live="polite">{busy}</p> : null}
      {last ? (
        <p className="ok" data-testid="last-download">
          Saved {last.fileName} ({formatBytes(last.bytes)}) to your downloads.
        </p>
      ) : null}
      {problem ? (
        <p role="alert" className="alert" data-testid="export-problem">
          {problem}
        </p>
      ) : null}
      <h3>Import an adapter</h3>
      <p className="hint">A PEFT adapter for the loaded model: the .zip, or adapter_config.json and adapter_model.safetensors together. Compare it in step 5 or continue training it in step 4.</p>
      <input id="adapter-import" type="file" multiple accept=".zip,.json,.safetensors" disabled={!modelReady || busy !== null} onChange={onImport} />
    </div>
  );
}
