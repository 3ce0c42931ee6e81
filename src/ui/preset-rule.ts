/**
 * The preset rule: the learning rate and the number of passes a preset suggests, from the model's
 * size and the number of training rows (README, "Presets").
 *
 *   learning rate = preset rate × clamp(√(10⁹ / N), 1, 16), N = the model's parameters.
 *     Models of 1B parameters and more get the preset's rate (the 1e-4 … 2e-4 of LoRA recipes for
 *     1–8B models); smaller models take larger steps, scaled with √ of how much smaller they are,
 *     at most 16 times the preset's rate (Balanced on a 0.5B model: 2.8e-4; on a tiny one: 3.2e-3).
 *   epochs = max(preset epochs, ⌈minimum steps / steps per epoch⌉), at most 10, where steps per
 *     epoch = ⌈training rows / batch size⌉ and the minimum is 30 (Quick), 60 (Balanced) or
 *     120 (Thorough) optimizer steps: a small dataset gets more passes, so the adapter takes
 *     enough steps to move at all.
 */

export const LR_SCALE_MAX = 16;
export const MAX_SUGGESTED_EPOCHS = 10;

export interface PresetBase {
  learningRate: number;
  epochs: number;
  minSteps: number;
}

export interface Suggestion {
  learningRate: number;
  epochs: number;
  /** Optimizer steps the suggestion gives (null when the rows are not known yet). */
  steps: number | null;
  /** Why, in one sentence for the adapter summary. */
  reason: string;
}

const sig = (x: number) => Number(x.toPrecision(2));

export function suggestTraining(p: PresetBase, modelParams: number, trainRows: number | null, batchSize: number): Suggestion {
  const scale = Math.min(LR_SCALE_MAX, Math.max(1, Math.sqrt(1e9 / Math.max(1, modelParams))));
  const learningRate = sig(p.learningRate * scale);
  const size = modelParams >= 1e9 ? `${(modelParams / 1e9).toFixed(1)}B` : `${(modelParams / 1e6).toFixed(modelParams < 1e7 ? 2 : 0)}M`;
  const lrWhy = scale > 1 ? `learning rate ${learningRate} (${sig(scale)}× the preset's ${p.learningRate}, for a model of ${size} parameters)` : `learning rate ${learningRate} (a model of ${size} parameters)`;
  if (trainRows === null || trainRows <= 0) {
    return { learningRate, epochs: p.epochs, steps: null, reason: `${lrWhy}; ${p.epochs} epochs (load data in step 2 to fit them to its size).` };
  }
  const perEpoch = Math.ceil(trainRows / Math.max(1, batchSize));
  const epochs = Math.min(MAX_SUGGESTED_EPOCHS, Math.max(p.epochs, Math.ceil(p.minSteps / perEpoch)));
  const more = epochs > p.epochs ? `, raised from ${p.epochs} so the run takes at least ${p.minSteps} steps` : '';
  return { learningRate, epochs, steps: epochs * perEpoch, reason: `${lrWhy}; ${epochs} epochs over ${trainRows} training rows = ${epochs * perEpoch} steps${more}.` };
}
