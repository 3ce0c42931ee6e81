import { loraScale } from '../../lora/config.ts';
import { useStore } from '../store.ts';
import { LayerPicker } from './LayerPicker.tsx';
import { ModulePicker } from './ModulePicker.tsx';
import { NumberField } from './NumberField.tsx';

const RANKS = [1, 2, 4, 8, 16, 32, 64, 128];
const SEQ_LENS = [64, 128, 256, 512, 1024, 2048, 4096];

/** Every adapter and training setting, each with its plain name and its technical one. */
export function AdvancedSettings() {
  const { adapter, training } = useStore((s) => s.adapterSettings);
  const maxPositions = useStore((s) => s.modelConfig.maxPositions);
  const updateAdapter = useStore((s) => s.updateAdapter);
  const updateTraining = useStore((s) => s.updateTraining);
  const rankOptions = RANKS.includes(adapter.rank) ? RANKS : [...RANKS, adapter.rank].sort((a, b) => a - b);
  return (
    <div id="advanced-settings" className="advanced" data-testid="advanced-settings">
      <div className="field-grid">
        <div className="field">
          <label htmlFor="lora-rank">Adapter size (rank)</label>
          <select id="lora-rank" value={adapter.rank} onChange={(e) => updateAdapter({ rank: Number(e.target.value) })}>
            {rankOptions.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <NumberField id="lora-alpha" label="Strength (alpha)" value={adapter.alpha} min={0.001} max={4096} step="any" onChange={(alpha) => updateAdapter({ alpha })} />
        <NumberField id="lora-dropout" label="Random drop while training (dropout)" value={adapter.dropout} min={0} max={0.9} step={0.05} onChange={(dropout) => updateAdapter({ dropout })} />
        <div className="field check-field">
          <div className="check">
            <input id="lora-rslora" type="checkbox" checked={adapter.rslora} onChange={(e) => updateAdapter({ rslora: e.target.checked })} />
            <label htmlFor="lora-rslora">Rank-stabilised scaling (rsLoRA)</label>
          </div>
          <span className="hint">Scale = {formatScale(loraScale(adapter))} ({adapter.rslora ? 'alpha ÷ √rank' : 'alpha ÷ rank'})</span>
        </div>
      </div>
      <ModulePicker />
      <LayerPicker />
      <div className="field-grid">
        <NumberField id="learning-rate" label="Step size (learning rate)" value={training.learningRate} min={1e-7} max={0.1} step="any" onChange={(learningRate) => updateTraining({ learningRate })} />
        <NumberField id="epochs" label="Passes over the data (epochs)" value={training.epochs} min={1} max={50} step={1} integer onChange={(epochs) => updateTraining({ epochs })} />
        <NumberField id="batch-size" label="Rows per step (batch size)" value={training.batchSize} min={1} max={256} step={1} integer onChange={(batchSize) => updateTraining({ batchSize })} />
        <div className="field">
          <label htmlFor="seq-len">Longest example in tokens (sequence length)</label>
          <select id="seq-len" value={training.seqLen} onChange={(e) => updateTraining({ seqLen: Number(e.target.value) })}>
            {SEQ_LENS.filter((t) => t <= maxPositions || t === training.seqLen).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field check-field">
          <div className="check">
            <input id="recompute" type="checkbox" checked={training.recompute ?? false} onChange={(e) => updateTraining({ recompute: e.target.checked })} />
            <label htmlFor="recompute">Always recompute activations (less GPU memory, about a third slower)</label>
          </div>
          <span className="hint">Otherwise they are recomputed only when the run would not fit the GPU.</span>
        </div>
      </div>
    </div>
  );
}

function formatScale(s: number): string {
  return Number.isFinite(s) ? String(Math.round(s * 1000) / 1000) : '—';
}
