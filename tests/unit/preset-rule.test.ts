import { describe, expect, it } from 'vitest';
import { configFromHf } from '../../src/model/config.ts';
import { PRESETS, presetSettings } from '../../src/ui/adapter-settings.ts';
import { suggestTraining } from '../../src/ui/preset-rule.ts';

describe('the preset rule: learning rate from the model size, epochs from the rows', () => {
  it('scales the learning rate with √(1e9 / parameters), between 1× and 16× the preset rate', () => {
    const b = PRESETS.balanced; // 2e-4, 2 epochs, at least 60 steps
    expect(suggestTraining(b, 7e9, null, 4).learningRate).toBe(2e-4); // ≥ 1B: the preset rate
    expect(suggestTraining(b, 5e8, null, 4).learningRate).toBe(2.8e-4); // √2 = 1.414 → 2.83e-4 → 2 significant digits
    expect(suggestTraining(b, 1.35e8, null, 4).learningRate).toBe(5.4e-4); // √7.41 = 2.72
    expect(suggestTraining(b, 260_000, null, 4).learningRate).toBe(3.2e-3); // √3846 = 62 → capped at 16
    expect(suggestTraining(PRESETS.thorough, 260_000, null, 4).learningRate).toBe(1.6e-3);
  });

  it('raises the epochs of small datasets to the preset\'s minimum steps, at most 10 epochs', () => {
    const b = PRESETS.balanced;
    // 108 rows / batch 4 = 27 steps per epoch; 60 steps need ⌈60/27⌉ = 3 epochs
    expect(suggestTraining(b, 1e9, 108, 4)).toMatchObject({ epochs: 3, steps: 81 });
    // 2000 rows: 500 steps per epoch already; the preset's 2 epochs stay
    expect(suggestTraining(b, 1e9, 2000, 4)).toMatchObject({ epochs: 2, steps: 1000 });
    // 8 rows: 2 steps per epoch would need 30 epochs; capped at 10
    expect(suggestTraining(b, 1e9, 8, 4)).toMatchObject({ epochs: 10, steps: 20 });
    expect(suggestTraining(PRESETS.quick, 1e9, 108, 4).epochs).toBe(2); // 30 steps
    expect(suggestTraining(b, 1e9, 108, 4).reason).toContain('3 epochs over 108 training rows = 81 steps, raised from 2 so the run takes at least 60 steps');
  });

  it('presetSettings applies the rule and says why', () => {
    const smol = configFromHf({ architectures: ['LlamaForCausalLM'], hidden_size: 576, intermediate_size: 1536, num_attention_heads: 9, num_key_value_heads: 3, num_hidden_layers: 30, vocab_size: 49152, max_position_embeddings: 2048, tie_word_embeddings: true });
    const s = presetSettings('balanced', smol, { batchSize: 4, seqLen: 256 }, 108);
    expect(s.training).toMatchObject({ learningRate: 5.5e-4, epochs: 3 }); // 134.5M parameters: √7.43 = 2.73
    expect(s.suggestion).toMatch(/^learning rate 0\.00055 \(2\.7× the preset's 0\.0002, for a model of 135M parameters\)/);
  });
});
