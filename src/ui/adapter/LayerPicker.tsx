import { useStore } from '../store.ts';

/**
 * The model's layers as blocks, all on by default. Each block is a toggle button (aria-pressed),
 * so Tab reaches it and Space or Enter turns it off and on.
 */
export function LayerPicker() {
  const count = useStore((s) => s.modelConfig.layers);
  const layers = useStore((s) => s.adapterSettings.adapter.layers);
  const toggleLayer = useStore((s) => s.toggleLayer);
  const setAllLayers = useStore((s) => s.setAllLayers);
  const on = new Set(layers ?? Array.from({ length: count }, (_, i) => i));
  return (
    <fieldset className="layer-picker">
      <legend>Layers to adapt ({on.size} of {count} chosen; layer 0 is nearest the input)</legend>
      <div className="layer-blocks" role="group" aria-label="Layers" data-testid="layer-picker">
        {Array.from({ length: count }, (_, i) => (
          <button key={i} type="button" className="layer-block" aria-pressed={on.has(i)} aria-label={`Layer ${i}`} onClick={() => toggleLayer(i)}>
            {i}
          </button>
        ))}
      </div>
      <div className="layer-actions">
        <button type="button" className="secondary small" onClick={() => setAllLayers(true)}>
          All layers
        </button>
        <button type="button" className="secondary small" onClick={() => setAllLayers(false)}>
          No layers
        </button>
      </div>
    </fieldset>
  );
}
