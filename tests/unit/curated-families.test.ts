/**
 * The curated Gemma 3 270M-IT and Qwen3-0.6B entries: Hub ids, configs equal to the published
 * config.json, download sizes from the stored checkpoints, LoRA on every linear module and a
 * memory verdict from the planner.
 */
import { describe, expect, it } from 'vitest';
import { configFromHf, loraTargets, parameterCount } from '../../src/model/config.ts';
import { adapterSummary, presetSettings } from '../../src/ui/adapter-settings.ts';
import { CURATED_MODELS, downloadBytes } from '../../src/ui/model/curated.ts';
import { GEMMA3_270M, QWEN3_06B } from '../model/config-hub-samples.ts';

const entry = (id: string) => {
  const m = CURATED_MODELS.find((c) => c.id === id);
  if (!m) throw new Error(`${id} is not curated`);
  return m;
};

describe('curated Gemma 3 and Qwen3', () => {
  it('google/gemma-3-270m-it: the published config, gated, ~541 MB to download', () => {
    const m = entry('google/gemma-3-270m-it');
    const { eosId: _e, torchDtype: _t, ...want } = configFromHf(GEMMA3_270M);
    expect(m.config).toMatchObject(want);
    expect(m.gated).toBe(true);
    expect(parameterCount(m.config)).toBe(268_098_176);
    // bf16 weights (no stored lm_head: model.safetensors is 536 MB) + tokenizer.json (33 MB) and its config.
    expect(downloadBytes(m)).toBe(268_098_176 * 2 + 34_600_000);
    expect(m.files).toEqual(['config.json', 'tokenizer_config.json', 'tokenizer.json', 'model.safetensors']);
  });

  it('Qwen/Qwen3-0.6B: the published config; its safetensors also stores the tied lm_head', () => {
    const m = entry('Qwen/Qwen3-0.6B');
    expect(m.config).toMatchObject(configFromHf(QWEN3_06B));
    expect(m.storesTiedHead).toBe(true);
    // 751,632,384 stored bf16 values (1.5 GB, the Hub's "752M params") + tokenizer files.
    expect(downloadBytes(m)).toBe((596_049_920 + 151_936 * 1024) * 2 + 11_400_000);
  });

  it('both adapt every linear module and get a memory verdict from the planner', () => {
    for (const id of ['google/gemma-3-270m-it', 'Qwen/Qwen3-0.6B']) {
      const m = entry(id);
      expect(loraTargets(m.config)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
      const s = adapterSummary(m.config, presetSettings('balanced', m.config, { batchSize: 4, seqLen: 256 }), null);
      expect(s.memory.totalBytes).toBeGreaterThan(s.memory.frozenBytes);
      expect(s.trainableParams).toBeGreaterThan(0);
      expect(typeof s.verdict.fits).toBe('boolean');
    }
  });
});
