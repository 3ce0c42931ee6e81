import { useState } from 'react';
import { useStore } from '../store.ts';

/** Adapter strength (re-answers when let go), answer length, and sampling shared by both models. */
export function CompareSettings() {
  const strength = useStore((s) => s.strength);
  const sampling = useStore((s) => s.sampling);
  const busy = useStore((s) => s.compareBusy);
  const [draft, setDraft] = useState<number | null>(null);
  const { setStrength, setSampling } = useStore.getState();
  const shown = draft ?? strength;
  const commit = () => {
    if (draft !== null && draft !== strength) setStrength(draft);
    setDraft(null);
  };
  return (
    <div className="compare-settings">
      <div className="field">
        <label htmlFor="adapter-strength">
          Adapter strength: <output data-testid="strength-value">{shown.toFixed(2)}</output> (0 = base model, 1 = as trained)
        </label>
        <input
          id="adapter-strength"
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={shown}
          disabled={busy}
          onChange={(e) => setDraft(Number(e.target.value))}
          onPointerUp={commit}
          onKeyUp={commit}
          onBlur={commit}
        />
      </div>
      <div className="field narrow">
        <label htmlFor="max-new-tokens">Longest answer (tokens)</label>
        <input id="max-new-tokens" type="number" min={1} max={256} value={sampling.maxNewTokens} onChange={(e) => setSampling({ maxNewTokens: Math.max(1, Math.min(256, Math.round(Number(e.target.value)) || 1)) })} />
      </div>
      <div className="field narrow">
        <label htmlFor="temperature">Temperature (0 = always the likeliest word)</label>
        <input id="temperature" type="number" min={0} max={2} step={0.1} value={sampling.temperature} onChange={(e) => setSampling({ temperature: Math.max(0, Math.min(2, Number(e.target.value) || 0)) })} />
      </div>
      <div className="field narrow">
        <label htmlFor="sampling-seed">Seed (same for both models)</label>
        <input id="sampling-seed" type="number" value={sampling.seed} onChange={(e) => setSampling({ seed: Math.round(Number(e.target.value)) || 0 })} />
      </div>
    </div>
  );
}
