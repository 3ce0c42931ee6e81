import { useRef } from 'react';
import { DropArea } from '../DropArea.tsx';
import { useStore } from '../store.ts';

const ACCEPT = '.csv,.tsv,.tab,.jsonl,.ndjson,.json,.txt';

async function readFile(file: File): Promise<void> {
  useStore.getState().loadDataFile(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** A labelled drop zone with a file picker inside it, and the demo dataset button. */
export function DropZone() {
  const input = useRef<HTMLInputElement>(null);
  const loading = useStore((s) => s.dataLoading);
  const loadDemo = useStore((s) => s.loadDemoData);

  const onDrop = (data: DataTransfer) => {
    const file = data.files[0];
    if (file) void readFile(file);
  };

  return (
    <DropArea title="Drop a data file here" titleId="drop-zone-label" testId="drop-zone" onDrop={onDrop}>
      <p className="hint">CSV, TSV, JSONL or JSON, with one example per row. It stays on this computer.</p>
      <div className="drop-zone-actions">
        <input
          ref={input}
          id="data-file"
          type="file"
          accept={ACCEPT}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void readFile(file).finally(() => input.current && (input.current.value = ''));
          }}
        />
        <label htmlFor="data-file" className="file-label">
          Choose a data file
        </label>
        <span className="or">or</span>
        <button type="button" className="secondary" onClick={() => void loadDemo()} disabled={loading}>
          Use the demo dataset
        </button>
      </div>
    </DropArea>
  );
}
