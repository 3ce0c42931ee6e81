import { useEffect } from 'react';
import { formatBytes } from '../../gpu/pool.ts';
import { useStore } from '../store.ts';

/** Files this browser keeps from earlier downloads, with their sizes, and a button to remove them. */
export function CacheList() {
  const entries = useStore((s) => s.cacheEntries);
  const refresh = useStore((s) => s.refreshCache);
  const clear = useStore((s) => s.clearCache);
  const busy = useStore((s) => s.modelProgress !== null);
  useEffect(() => {
    if (entries === null) void refresh();
  }, [entries, refresh]);
  const total = entries?.reduce((n, e) => n + e.bytes, 0) ?? 0;
  return (
    <details className="cache-list" data-testid="cache-list">
      <summary>
        Downloaded models kept in this browser: {entries === null ? '…' : entries.length === 0 ? 'none' : formatBytes(total)}
      </summary>
      {entries && entries.length > 0 ? (
        <>
          <table className="preview">
            <caption>Each file is downloaded once and read from here afterwards, even offline.</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Size</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.key}>
                  <td>
                    <code>{e.key}</code>
                  </td>
                  <td>{formatBytes(e.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" className="secondary small" disabled={busy} onClick={() => void clear()}>
            Remove downloaded models from this browser
          </button>
        </>
      ) : null}
    </details>
  );
}
