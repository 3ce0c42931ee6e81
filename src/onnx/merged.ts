/**
 * The weights an export writes: the checkpoint's tensors widened to f32, with every adapted
 * module's weight merged (W + s·B·A, PEFT's merge_and_unload, accumulated in float64 and rounded
 * once). Weights stay in HF `[out, in]` layout here; the graph builders transpose them.
 */
import { loraScale, type AdapterConfig } from '../lora/config.ts';
import { readSlot, type AdapterLayout } from '../lora/layout.ts';
import { mergeWeight } from '../lora/merge.ts';
import type { WeightSource } from '../model/weights.ts';

/** An adapter to merge: what importPeftAdapter returns (or the trainer's live parameters). */
export interface ExportAdapter {
  cfg: Pick<AdapterConfig, 'rank' | 'alpha' | 'rslora'>;
  layout: AdapterLayout;
  params: Float32Array;
}

export type WeightReader = (name: string) => Float32Array;

/** A reader of f32 weights by HF name, merged with the adapter where it adapts the module. */
export function mergedWeights(weights: WeightSource, adapter: ExportAdapter | null): WeightReader {
  if (!adapter) return (name) => weights.toF32(name);
  const { layout, params } = adapter;
  if (params.length !== layout.totalFloats) {
    throw new Error(`export: the adapter holds ${params.length} floats but its layout needs ${layout.totalFloats}; pass the parameters planned with this layout`);
  }
  const scale = loraScale(adapter.cfg);
  const byWeight = new Map(layout.entries.map((e) => [`${e.name}.weight`, e]));
  for (const name of byWeight.keys()) {
    if (!weights.has(name)) {
      throw new Error(`export: the adapter adapts '${name.replace(/\.weight$/, '')}', which ${weights.source} does not have; export with the base model the adapter was trained on`);
    }
  }
  return (name) => {
    const W = weights.toF32(name);
    const e = byWeight.get(name);
    if (!e) return W;
    // The engine's weights are [out, in] for every arch (GPT-2's Conv1D already transposed at load).
    return mergeWeight(W, readSlot(params, e.a), readSlot(params, e.b), scale, { N: e.outFeatures, K: e.inFeatures, R: layout.rank });
  };
}

/** [rows, cols] → [cols, rows]. */
export function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  if (x.length !== rows * cols) throw new Error(`transpose: ${x.length} values is not ${rows}×${cols}`);
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = x[row + c];
  }
  return out;
}
