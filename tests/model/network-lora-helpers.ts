/** LoRA test pieces: a layout over a tiny model, random parameters, the reference's hooks and mean loss. */
import type { Batch } from '../../src/data/batch.ts';
import { dropoutScale } from '../../src/kernels/matmul.ts';
import { dropoutKeep } from '../../src/kernels/lora.ts';
import { planAdapterLayout, readSlot, slotBlocks, writeSlot, type AdapterLayout } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { moduleSeed } from '../../src/model/forward-linear.ts';
import { ReferenceModel, type RefLora } from '../reference/model.ts';
import { rng } from '../helpers/numeric.ts';

export function layoutFor(config: ModelConfig, rank: number, layers: number[] | null = null): AdapterLayout {
  return planAdapterLayout(adapterModules(config, { targets: 'all-linear', layers }), rank);
}

/** A and B uniform in ±scale, rounded to f32 (padding stays 0). */
export function randomParams(layout: AdapterLayout, seed: number, scale: number, zeroB = false): Float64Array {
  const p = new Float64Array(layout.totalFloats);
  const next = rng(seed);
  for (const e of layout.entries) {
    for (const [slot, zero] of [[e.a, false], [e.b, zeroB]] as const) {
      const v = new Float64Array(slot.shape[0] * slot.shape[1]);
      for (let i = 0; i < v.length; i++) v[i] = zero ? 0 : Math.fround((next() * 2 - 1) * scale);
      writeSlot(p, slot, v);
    }
  }
  return p;
}

/** The reference's LoRA hooks read from the flat float64 parameters (B's padded row blocks gathered). */
export function refLora(layout: AdapterLayout, params: Float64Array, scale: number): Record<string, RefLora> {
  const out: Record<string, RefLora> = {};
  for (const e of layout.entries) {
    out[e.name] = {
      A: readSlot(params, e.a),
      B: readSlot(params, e.b),
      rank: layout.rank, scale,
    };
  }
  return out;
}

/**
 * The reference with PEFT's LoRA dropout on the adapter input, using the GPU's mask: element
 * (row, i) of module m's input is kept when dropoutKeep(moduleSeed(stepSeed, m), row·K + i, p),
 * where row = b·T + t counts rows of the padded batch.
 */
export class DropoutReference extends ReferenceModel {
  rowOffset = 0;
  p = 0;
  stepSeed = 0;
  moduleIndex = new Map<string, number>();

  override linear(x: Float64Array, T: number, module: string, out: number, inp: number, hasBias: boolean, lora?: Record<string, RefLora>): Float64Array {
    const y = super.linear(x, T, module, out, inp, hasBias);
    const ad = lora?.[module];
    if (!ad) return y;
    const seed = moduleSeed(this.stepSeed, this.moduleIndex.get(module)!);
    const keepScale = dropoutScale(this.p);
    for (let t = 0; t < T; t++) {
      const xa = new Float64Array(ad.rank);
      for (let i = 0; i < inp; i++) {
        if (!dropoutKeep(seed, (this.rowOffset + t) * inp + i, this.p)) continue;
        const xi = x[t * inp + i] * (this.p > 0 ? keepScale : 1);
        for (let k = 0; k < ad.rank; k++) xa[k] += xi * ad.A[k * inp + i];
      }
      for (let o = 0; o < out; o++) {
        let s = 0;
        for (let k = 0; k < ad.rank; k++) s += xa[k] * ad.B[o * ad.rank + k];
        y[t * out + o] += ad.scale * s;
      }
    }
    return y;
  }
}

/** Mean cross-entropy over the counted targets of the batch, in float64. */
export function referenceMeanLoss(ref: ReferenceModel, batch: Batch, rows: number[][], lora: Record<string, RefLora>): number {
  const V = ref.config.vocabSize;
  let sum = 0;
  rows.forEach((r, b) => {
    if (ref instanceof DropoutReference) ref.rowOffset = b * batch.T;
    const logits = ref.forward(r, { lora });
    for (let t = 0; t < r.length; t++) {
      const target = batch.targets[b * batch.T + t];
      if (target < 0) continue;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v] - max);
      sum += max + Math.log(z) - logits[t * V + target];
    }
  });
  return sum / batch.tokenCount;
}

/** A few coordinates of every A and B matrix (of every row block of a fused module's B), spread over each. */
export function sampledCoordinates(layout: AdapterLayout, perMatrix: number, seed: number): number[] {
  const next = rng(seed);
  const out: number[] = [];
  for (const e of layout.entries) {
    for (const slot of [e.a, ...slotBlocks(e.b)]) {
      const n = slot.shape[0] * slot.shape[1];
      for (let i = 0; i < perMatrix; i++) out.push(slot.offset + Math.floor(next() * n));
    }
  }
  return out;
}
