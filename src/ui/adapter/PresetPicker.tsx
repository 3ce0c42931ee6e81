import { PRESETS, type PresetName } from '../adapter-settings.ts';
import { useStore } from '../store.ts';

const NAMES = Object.keys(PRESETS) as PresetName[];

/** Quick / Balanced / Thorough as radio buttons; none is checked once settings are changed by hand. */
export function PresetPicker() {
  const preset = useStore((s) => s.adapterSettings.preset);
  const applyPreset = useStore((s) => s.applyPreset);
  return (
    <fieldset className="presets">
      <legend>How much to train (preset)</legend>
      <div className="preset-options">
        {NAMES.map((name) => {
          const p = PRESETS[name];
          return (
            <div key={name} className={preset === name ? 'preset chosen' : 'preset'}>
              <input id={`preset-${name}`} type="radio" name="preset" checked={preset === name} onChange={() => applyPreset(name)} aria-describedby={`preset-${name}-about`} />
              <label htmlFor={`preset-${name}`}>{p.label}</label>
              <p id={`preset-${name}-about`} className="hint">
                {p.description} Rank {p.rank}, {p.epochs} epoch{p.epochs > 1 ? 's' : ''}.
              </p>
            </div>
          );
        })}
      </div>
      {preset === 'custom' ? <p className="hint">Custom settings (changed in Advanced settings). Pick a preset to start over.</p> : null}
    </fieldset>
  );
}
