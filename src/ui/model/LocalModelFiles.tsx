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
        A <code>.gguf</code> file (unquantized: F32, F16 or BF16), or a Hugging Face folder with <code>config.json</code>, <code>*.safetensors</code> and{' '}
        <code>tokenizer.json</code>. The files are read in this tab; nothing is uploaded.
      </p>
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
