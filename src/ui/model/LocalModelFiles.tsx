import type { ChangeEvent } from 'react';
import { DropArea } from '../DropArea.tsx';
import { useStore } from '../store.ts';
import { readDropped, readPicked, sourceNameOf, type PickedFile } from './read-files.ts';

async function load(files: Promise<PickedFile[]>): Promise<void> {
  const picked = await files;
  if (picked.length > 0) await useStore.getState().loadModelFiles(picked, sourceNameOf(picked));
}

/** Model files from this computer: a `.gguf`, or a Hugging Face folder, by picker or drag-and-drop. */
export function LocalModelFiles() {
  const busy = useStore((s) => s.modelProgress !== null);
  const onPick = (e: ChangeEvent<HTMLInputElement>) => {
    const input = e.target;
    if (input.files && input.files.length > 0) void load(readPicked([...input.files])).finally(() => (input.value = ''));
  };
  return (
    <DropArea title="Or drop model files here" titleId="model-drop-label" testId="model-drop-zone" onDrop={(data) => void load(readDropped(data))}>
      <p className="hint">
        A <code>.gguf</code> file (F32, F16, BF16 or quantized: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the K-quants such as Q4_K_M, kept quantized on the GPU), or a
        Hugging Face folder with <code>config.json</code>, <code>*.safetensors</code> and <code>tokenizer.json</code>. The files are read in this tab; nothing is uploaded.
      </p>
      <details className="hint" data-testid="model-gguf-where">
        <summary>Models you already have in LM Studio or ollama</summary>
        <p>
          LM Studio keeps its downloads as <code>.gguf</code> files in <code>~/.lmstudio/models/&lt;publisher&gt;/&lt;model&gt;/</code> (older versions:{' '}
          <code>~/.cache/lm-studio/models</code>); pick one from there.
        </p>
        <p>
          ollama keeps each model as a GGUF file without an extension: the largest <code>sha256-…</code> file in <code>~/.ollama/models/blobs</code> (on Linux
          installs as a service, <code>/usr/share/ollama/.ollama/models/blobs</code>; on Windows <code>C:\Users\&lt;you&gt;\.ollama\models\blobs</code>; or
          under <code>OLLAMA_MODELS</code> when set). The model's manifest in <code>manifests/registry.ollama.ai/library/&lt;name&gt;/&lt;tag&gt;</code> names it: the
          layer of type <code>application/vnd.ollama.image.model</code>. Drop that file here (the file picker may hide files without an extension).
        </p>
      </details>
      <div className="drop-zone-actions">
        <input id="model-file" type="file" multiple accept=".gguf,.json,.safetensors,.jinja" onChange={onPick} disabled={busy} />
        <label htmlFor="model-file" className="file-label">
          Choose model files
        </label>
        <span className="or">or</span>
        <input
          id="model-folder"
          type="file"
          multiple
          onChange={onPick}
          disabled={busy}
          ref={(el) => {
            el?.setAttribute('webkitdirectory', '');
          }}
        />
        <label htmlFor="model-folder" className="file-label secondary-label">
          Choose a model folder
        </label>
      </div>
    </DropArea>
  );
}
