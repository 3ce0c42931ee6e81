/**
 * PEFT adapters for Qwen3 and Gemma 3, on every linear module, with the keys PEFT writes
 * (`base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`) and shapes that follow
 * head_dim where it is not hidden / heads (Qwen3 and Gemma: q_proj is [H·D, C], o_proj [C, H·D]);
 * the folder imports back to the same parameters.
 */
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { planAdapterLayout } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, exportPeftAdapter } from '../../src/lora/peft.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';
import { randomParams } from '../model/network-lora-helpers.ts';

describe('PEFT adapters of Qwen3 and Gemma 3', () => {
  for (const kind of ['qwen3', 'gemma3'] as TinyKind[]) {
    it(`${kind}: all-linear keys and shapes as PEFT writes them, and back`, () => {
      const { config } = loadModelFiles(tinyModelFiles(kind), `tiny-${kind}`);
      const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I } = config;
      expect(H * D).not.toBe(C);
      const cfg = { ...defaultAdapterConfig('llama'), rank: 4, alpha: 8, targets: 'all-linear' as const };
      const layout = planAdapterLayout(adapterModules(config, { targets: 'all-linear', layers: null }), 4);
      const params = Float32Array.from(randomParams(layout, 3, 0.5)); // padding between slots stays 0
      const files = exportPeftAdapter(layout, params, cfg, 'llama');
      const st = parseSafetensors(files[ADAPTER_WEIGHTS_FILE], ADAPTER_WEIGHTS_FILE);
      const shape = (name: string) => st.tensors.find((t) => t.name === `base_model.model.model.layers.1.${name}.weight`)?.shape;
      expect(shape('self_attn.q_proj.lora_A')).toEqual([4, C]);
      expect(shape('self_attn.q_proj.lora_B')).toEqual([H * D, 4]);
      expect(shape('self_attn.k_proj.lora_B')).toEqual([KV * D, 4]);
      expect(shape('self_attn.o_proj.lora_A')).toEqual([4, H * D]);
      expect(shape('mlp.down_proj.lora_A')).toEqual([4, I]);
      expect(st.tensors).toHaveLength(2 * 7 * config.layers);
      // Norms (q_norm, k_norm and Gemma's four) are not linear modules: never adapted.
      expect(st.tensors.some((t) => t.name.includes('norm'))).toBe(false);
      const json = JSON.parse(new TextDecoder().decode(files[ADAPTER_CONFIG_FILE]));
      expect(json.target_modules).toEqual(['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
      const back = importPeftAdapter(files[ADAPTER_CONFIG_FILE], files[ADAPTER_WEIGHTS_FILE], config);
      expect(Array.from(back.params)).toEqual(Array.from(params));
    });
  }
});
