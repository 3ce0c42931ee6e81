import { useStore } from '../store.ts';

/** The optional Hugging Face access token for gated models; kept in memory for this tab only. */
export function HubToken() {
  const token = useStore((s) => s.hubToken);
  const setToken = useStore((s) => s.setHubToken);
  return (
    <div className="field">
      <label htmlFor="hub-token">Hugging Face access token (only for gated models)</label>
      <input
        id="hub-token"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="hf_…"
        value={token}
        onChange={(e) => setToken(e.target.value)}
        aria-describedby="hub-token-hint"
      />
      <p id="hub-token-hint" className="hint">
        Kept only in memory for this tab: never stored, never logged, never put in a URL. It is sent only to huggingface.co with the model's downloads, and is gone when you close or reload the tab.
      </p>
    </div>
  );
}
