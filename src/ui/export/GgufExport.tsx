import { useState } from 'react';
import { GGUF_FILE_TYPES, type GgufFileType } from '../../train/gguf-files.ts';
import { useStore } from '../store.ts';

const FILE_TYPES: Record<GgufFileType, string> = {
  F32: 'F32: the weights exactly as the studio runs them',
  F16: 'F16: half the size, weights rounded to 16 bits',
  Q8_0: 'Q8_0: a quarter of F32, nearly lossless',
  Q4_K_M: 'Q4_K_M: the smallest, llama.cpp’s usual 4-bit mix',
};

/** The adapter and the merged model as GGUF for llama.cpp, ollama and LM Studio, with the ollama Modelfile. */
export function GgufExport() {
  const info = useStore((s) => s.adapterInfo);
  const busy = useStore((s) => s.exportBusy);
  const modelReady = useStore((s) => s.modelSummary !== null);
  const dtype = useStore((s) => s.ggufAdapterDtype);
  const fileType = useStore((s) => s.ggufFileType);
  const merged = useStore((s) => s.ggufMerged);
  const { exportGgufAdapter, exportGgufMerged, setGgufAdapterDtype, setGgufFileType } = useStore.getState();
  const [copied, setCopied] = useState(false);
  const copy = (line: string) => {
    void navigator.clipboard?.writeText(line).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <div className="gguf-export" data-testid="gguf-export">
      <h3>llama.cpp, ollama, LM Studio: GGUF</h3>
      <p className="hint">
        The adapter as a GGUF LoRA file for the same base model in GGUF (<code>llama-cli -m base.gguf --lora adapter.gguf</code>, or <code>ADAPTER</code> in an ollama
        Modelfile), or the whole model with the adapter folded in, as one GGUF file with an ollama <code>Modelfile</code> that uses the prompt format of the training rows.
        {info ? '' : ' Before there is an adapter, the merged download is the base model itself: the GGUF base an adapter file needs.'}
      </p>
      <fieldset disabled={busy !== null}>
        <legend>Adapter weights</legend>
        {(['F32', 'F16'] as const).map((d) => (
          <label key={d}>
            <input type="radio" name="gguf-adapter-dtype" value={d} checked={dtype === d} onChange={() => setGgufAdapterDtype(d)} /> {d}{' '}
          </label>
        ))}
      </fieldset>
      <div className="button-row">
        <button type="button" disabled={!info || busy !== null} onClick={() => void exportGgufAdapter()}>
          Download the GGUF adapter
        </button>
      </div>
      <fieldset disabled={busy !== null}>
        <legend>Merged model</legend>
        {GGUF_FILE_TYPES.map((t) => (
          <div key={t}>
            <label>
              <input type="radio" name="gguf-file-type" value={t} checked={fileType === t} onChange={() => setGgufFileType(t)} /> {FILE_TYPES[t]}
            </label>
          </div>
        ))}
      </fieldset>
      <div className="button-row">
        <button type="button" className="secondary" disabled={!modelReady || busy !== null} onClick={() => void exportGgufMerged()}>
          Download the merged GGUF + Modelfile (.zip)
        </button>
      </div>
      {merged ? (
        <div className="ollama-line" data-testid="ollama-create">
          <p>Unzip, then in that folder:</p>
          <pre>
            <code data-testid="ollama-create-line">{merged.createLine}</code>
          </pre>
          <button type="button" className="secondary" onClick={() => copy(merged.createLine)}>
            {copied ? 'Copied' : 'Copy'}
          </button>
          <details>
            <summary>The Modelfile (the prompt format of the training rows)</summary>
            <pre data-testid="modelfile">{merged.modelfile}</pre>
          </details>
          <p className="hint">
            LM Studio and llama.cpp open <code>{merged.ggufName}</code> directly.
          </p>
        </div>
      ) : null}
    </div>
  );
}
