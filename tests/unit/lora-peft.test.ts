import { describe, it, expect } from 'vitest';
import { FormatError } from '../../src/io/errors.ts';
import { parseSafetensors, tensorToF32, writeSafetensors, type SafeTensorInput } from '../../src/io/safetensors.ts';
import { unzipFiles } from '../../src/io/zip.ts';
import { labelReport } from '../../src/eval/report.ts';
import { LABEL_RULE_SENTENCE } from '../../src/eval/rule.ts';
import { adapterCardMarkdown, adapterZip } from '../../src/lora/card.ts';
import type { AdapterConfig } from '../../src/lora/config.ts';
import { planAdapterLayout, readSlot, slotView, writeSlot } from '../../src/lora/layout.ts';
import { adapterFileBytes, adapterModules, trainableParams, type LoraModelShape } from '../../src/lora/modules.ts';
import { exportPeftAdapter, peftConfigJson } from '../../src/lora/peft.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { pyFloatRepr, pyJsonDumps, pyString } from '../../src/lora/pyjson.ts';
import { rng } from '../helpers/numeric.ts';

const SMOL: LoraModelShape = { arch: 'llama', hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, intermediate: 1536 };
const TINY: LoraModelShape = { arch: 'llama', hidden: 10, layers: 3, heads: 2, kvHeads: 1, headDim: 5, intermediate: 7 };
const TINY_GPT2: LoraModelShape = { arch: 'gpt2', hidden: 6, layers: 2, heads: 2, kvHeads: 2, headDim: 3, intermediate: 24 };

const cfgOf = (over: Partial<AdapterConfig>): AdapterConfig => ({
  rank: 8, alpha: 16, dropout: 0.05, targets: ['v_proj', 'q_proj'], layers: null, rslora: false, init: 'default', seed: 0, ...over,
});

/** Random values with awkward bit patterns (−0, subnormals, large) so a lossy path shows. */
function randomParams(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * 10 ** Math.floor(r() * 8 - 4);
  out[0] = -0;
  out[1] = 1e-42; // subnormal
  return out;
}

function adapter(model: LoraModelShape, cfg: AdapterConfig, seed = 1) {
  const layout = planAdapterLayout(adapterModules(model, cfg), cfg.rank);
  const random = randomParams(layout.totalFloats, seed);
  const params = new Float32Array(layout.totalFloats); // padding stays zero, as the trainer keeps it
  for (const e of layout.entries) {
    for (const s of [e.a, e.b]) writeSlot(params, s, readSlot(random, s));
  }
  return { layout, params };
}

function formatErrorOf(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError');
}

describe('Python json.dumps formatting', () => {
  it('floats as repr() writes them', () => {
    const cases: [number, string][] = [
      [0, '0.0'], [-0, '-0.0'], [0.05, '0.05'], [0.1, '0.1'], [16.5, '16.5'], [100, '100.0'], [1e-4, '0.0001'],
      [1e-5, '1e-05'], [1.5e-7, '1.5e-07'], [1e16, '1e+16'], [123456789012345680, '1.2345678901234568e+17'], [1e15, '1000000000000000.0'],
    ];
    for (const [x, want] of cases) expect(pyFloatRepr(x)).toBe(want);
  });

  it('strings with ensure_ascii, containers with indent=2 and sorted keys', () => {
    expect(pyString('é"\\\n\u0001😀')).toBe('"\\u00e9\\"\\\\\\n\\u0001\\ud83d\\ude00"');
    expect(pyJsonDumps({ b: [1, 'x'], a: {}, c: [], d: { z: null, y: true } })).toBe(
      '{\n  "a": {},\n  "b": [\n    1,\n    "x"\n  ],\n  "c": [],\n  "d": {\n    "y": true,\n    "z": null\n  }\n}',
    );
  });
});

describe('adapter_config.json as PEFT writes it', () => {
  it('Llama: every key of PEFT 0.19 LoraConfig.to_dict(), sorted, with the settings', () => {
    const text = peftConfigJson(cfgOf({ baseModel: 'HuggingFaceTB/SmolLM2-135M' }), 'llama');
    expect(text).toBe(`{
  "alora_invocation_tokens": null,
  "alpha_pattern": {},
  "arrow_config": null,
  "auto_mapping": null,
  "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M",
  "bias": "none",
  "corda_config": null,
  "ensure_weight_tying": false,
  "eva_config": null,
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 16,
  "lora_bias": false,
  "lora_dropout": 0.05,
  "lora_ga_config": null,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "peft_type": "LORA",
  "peft_version": "0.19.1",
  "qalora_group_size": 16,
  "r": 8,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "q_proj",
    "v_proj"
  ],
  "target_parameters": null,
  "task_type": "CAUSAL_LM",
  "trainable_token_indices": null,
  "use_bdlora": null,
  "use_dora": false,
  "use_qalora": false,
  "use_rslora": false
}`);
  });

  it('GPT-2: fan_in_fan_out, all-linear expanded to module names, layer list, float alpha, zero dropout', () => {
    const c = JSON.parse(peftConfigJson(cfgOf({ targets: 'all-linear', layers: [2, 0], alpha: 12.5, dropout: 0, rslora: true, init: 'gaussian', revision: 'main' }), 'gpt2'));
    expect(c).toMatchObject({
      fan_in_fan_out: true, target_modules: ['c_attn', 'c_fc', 'c_proj'], layers_to_transform: [0, 2], lora_alpha: 12.5,
      use_rslora: true, init_lora_weights: 'gaussian', revision: 'main', base_model_name_or_path: null,
    });
    expect(peftConfigJson(cfgOf({ dropout: 0 }), 'gpt2')).toContain('"lora_dropout": 0.0,');
  });
});

describe('adapter_model.safetensors', () => {
  const cfg = cfgOf({ layers: [0, 29] });
  const { layout, params } = adapter(SMOL, cfg);
  const files = exportPeftAdapter(layout, params, cfg, 'llama');
  const bytes = files['adapter_model.safetensors'];

  it('has PEFT keys, [R, K] / [N, R] shapes, F32 and {"format": "pt"}', () => {
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(file.tensors.map((t) => [t.name, t.dtype, t.shape]).sort()).toEqual([
      ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', 'F32', [8, 576]],
      ['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', 'F32', [576, 8]],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight', 'F32', [8, 576]],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight', 'F32', [192, 8]],
      ['base_model.model.model.layers.29.self_attn.q_proj.lora_A.weight', 'F32', [8, 576]],
      ['base_model.model.model.layers.29.self_attn.q_proj.lora_B.weight', 'F32', [576, 8]],
      ['base_model.model.model.layers.29.self_attn.v_proj.lora_A.weight', 'F32', [8, 576]],
      ['base_model.model.model.layers.29.self_attn.v_proj.lora_B.weight', 'F32', [192, 8]],
    ]);
    const e = layout.entries[3];
    expect(tensorToF32(file, bytes, `base_model.model.${e.name}.lora_B.weight`)).toEqual(slotView(params, e.b));
  });

  it('is exactly the size adapterFileBytes predicts', () => {
    expect(bytes.length).toBe(adapterFileBytes(layout.entries, 8));
    expect(bytes.length - 4 * trainableParams(layout.entries, 8)).toBeLessThan(2000);
  });

  it('round-trips bit for bit through import', () => {
    const back = importPeftAdapter(files['adapter_config.json'], bytes, SMOL);
    expect(back.layout).toEqual(layout);
    expect(new Uint32Array(back.params.buffer)).toEqual(new Uint32Array(params.buffer));
    expect(back.cfg).toEqual({ ...cfg, targets: ['q_proj', 'v_proj'] });
  });

  it('round-trips GPT-2 all-linear on some layers, with c_proj in both blocks', () => {
    const g = cfgOf({ targets: 'all-linear', layers: [1], rank: 3, alpha: 6, baseModel: 'openai-community/gpt2' });
    const a = adapter(TINY_GPT2, g, 5);
    const out = exportPeftAdapter(a.layout, a.params, g, 'gpt2');
    const back = importPeftAdapter(new TextDecoder().decode(out['adapter_config.json']), out['adapter_model.safetensors'], TINY_GPT2);
    expect(new Uint32Array(back.params.buffer)).toEqual(new Uint32Array(a.params.buffer));
    expect(back.cfg).toMatchObject({ rank: 3, alpha: 6, layers: [1], targets: ['c_attn', 'c_proj', 'c_fc'], baseModel: 'openai-community/gpt2' });
    expect(parseSafetensors(out['adapter_model.safetensors']).tensors.find((t) => t.name.endsWith('h.1.mlp.c_fc.lora_B.weight'))?.shape).toEqual([24, 3]);
  });
});

describe('importing files written by other tools', () => {
  // Hand-written as PEFT's in-memory state_dict() names them: adapter name "default", bf16 weights.
  const bf16 = (values: number[]) => new Uint16Array(values);
  const R = 2;
  const pattern = (n: number, start: number) => bf16(Array.from({ length: n }, (_, i) => 0x3f80 + ((start + i * 7) % 120) - 60));
  const tensors: SafeTensorInput[] = [0, 2].flatMap((l) => [
    { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.default.weight`, dtype: 'BF16' as const, shape: [R, 10], data: pattern(R * 10, l) },
    { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.default.weight`, dtype: 'BF16' as const, shape: [10, R], data: pattern(10 * R, l + 1) },
  ]);
  const config = JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: 4, lora_dropout: 0.1, target_modules: 'model.*q_proj', use_rslora: true });

  it('reads .default names and bf16 tensors, widening exactly (bf16 bits << 16)', () => {
    const got = importPeftAdapter(config, writeSafetensors(tensors), TINY);
    expect(got.cfg).toEqual({ rank: 2, alpha: 4, dropout: 0.1, targets: ['q_proj'], layers: [0, 2], rslora: true, init: 'default', seed: 0 });
    expect(got.layout.entries.map((e) => e.name)).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.2.self_attn.q_proj']);
    const e = got.layout.entries[1];
    const bits = new Uint32Array(slotView(got.params, e.b).slice().buffer);
    expect(Array.from(bits)).toEqual(Array.from(tensors[3].data as Uint16Array, (h) => (h << 16) >>> 0));
  });

  it('reads f16 tensors without the base_model.model. prefix (GPT-2, attention c_proj only)', () => {
    const half = new Uint16Array([0x3c00, 0xbc00, 0x3800, 0x0001, 0x7bff, 0x8000]); // 1, −1, 0.5, 2^-24, 65504, −0
    const A = new Uint16Array(6 * 1); A.set(half);
    const B = new Uint16Array(6 * 1); B.set(half.slice().reverse());
    const file = writeSafetensors([
      { name: 'transformer.h.0.attn.c_proj.lora_A.weight', dtype: 'F16', shape: [1, 6], data: A },
      { name: 'transformer.h.0.attn.c_proj.lora_B.weight', dtype: 'F16', shape: [6, 1], data: B },
    ]);
    const got = importPeftAdapter({ peft_type: 'LORA', r: 1, lora_alpha: 2, fan_in_fan_out: true }, file, TINY_GPT2);
    expect(got.cfg).toMatchObject({ targets: ['attn.c_proj'], layers: [0] });
    expect(Array.from(slotView(got.params, got.layout.entries[0].a))).toEqual([1, -1, 0.5, 2 ** -24, 65504, -0]);
  });

  it('refuses what it cannot load, naming the tensor and the fix', () => {
    const file = writeSafetensors(tensors);
    const base = { peft_type: 'LORA', r: R, lora_alpha: 4 };
    expect(formatErrorOf(() => importPeftAdapter({ ...base, peft_type: 'IA3' }, file, TINY)).message)
      .toBe('adapter_config.json: is a IA3 adapter (peft_type), not LORA; tsugiki loads LoRA adapters only');
    expect(formatErrorOf(() => importPeftAdapter({ ...base, use_dora: true }, file, TINY)).message).toMatch(/use_dora: true; DoRA adapters are not supported/);
    expect(formatErrorOf(() => importPeftAdapter({ ...base, rank_pattern: { q_proj: 4 } }, file, TINY)).message).toMatch(/sets rank_pattern/);
    expect(formatErrorOf(() => importPeftAdapter({ ...base, r: 3 }, file, TINY)).message).toBe(
      "adapter_model.safetensors: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight' has shape [2, 10] but " +
        'model.layers.0.self_attn.q_proj (10 ← 10) at rank r=3 needs lora_A [3, 10]; the adapter was trained for a different base model or its config has the wrong r',
    );
    expect(formatErrorOf(() => importPeftAdapter(base, file, { ...TINY, layers: 2 })).message).toBe(
      "adapter_model.safetensors: tensor 'base_model.model.model.layers.2.self_attn.q_proj.lora_A.default.weight' is for module " +
        "'model.layers.2.self_attn.q_proj', which this llama model (2 layers) does not have; the adapter was trained for a different base model",
    );
    expect(formatErrorOf(() => importPeftAdapter(base, writeSafetensors(tensors.slice(0, 3)), TINY)).message).toBe(
      "adapter_model.safetensors: tensor 'base_model.model.model.layers.2.self_attn.q_proj.lora_A.default.weight' has no matching lora_B for module model.layers.2.self_attn.q_proj; the file is incomplete",
    );
    const dora = [...tensors, { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector', dtype: 'F32' as const, shape: [10], data: new Float32Array(10) }];
    expect(formatErrorOf(() => importPeftAdapter(base, writeSafetensors(dora), TINY)).message).toMatch(/lora_magnitude_vector' is a DoRA magnitude/);
    const twoNames = [...tensors.slice(0, 2), ...tensors.slice(2).map((t) => ({ ...t, name: t.name.replace('.default.', '.other.') }))];
    expect(formatErrorOf(() => importPeftAdapter(base, writeSafetensors(twoNames), TINY)).message).toMatch(/holds several adapters \(default, other\)/);
    const irregular: SafeTensorInput[] = [...tensors, ...tensors.slice(0, 2).map((t) => ({ ...t, name: t.name.replace('q_proj', 'o_proj') }))];
    expect(formatErrorOf(() => importPeftAdapter(base, writeSafetensors(irregular), TINY)).message).toMatch(/adapts different modules in different layers/);
    expect(formatErrorOf(() => importPeftAdapter('{"r": 2', file, TINY)).message).toMatch(/^adapter_config.json: is not valid JSON/);
  });
});

describe('adapterZip', () => {
  it('zips the PEFT files with a model card', () => {
    const cfg = cfgOf({ targets: ['q_proj'], layers: [0], rank: 2 });
    const { layout, params } = adapter(TINY, cfg);
    const files = exportPeftAdapter(layout, params, cfg, 'llama');
    const card = {
      baseModel: 'HuggingFaceTB/SmolLM2-135M', adapter: cfg, trainableParams: trainableParams(layout.entries, 2),
      data: { file: 'train.csv', trainRows: 900, validationRows: 100 }, training: { lr: 0.0002, epochs: 3 },
      metrics: { 'validation loss': 0.523456, accuracy: 0.93 },
    };
    const out = unzipFiles(adapterZip(files, card));
    expect(Object.keys(out).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(out['adapter_model.safetensors']).toEqual(files['adapter_model.safetensors']);
    const md = new TextDecoder().decode(out['README.md']);
    expect(md).toBe(adapterCardMarkdown(card));
    expect(md.startsWith('---\nbase_model: "HuggingFaceTB/SmolLM2-135M"\nlibrary_name: peft\n')).toBe(true);
    for (const row of ['| rank (r) | 2 |', '| scale | 8 |', '| trainable parameters | 40 |', '| training rows | 900 |', '| lr | 2e-4 |', '| validation loss | 0.5235 |', '| accuracy | 0.93 |']) {
      expect(md).toContain(row);
    }
  });

  it('prints the evaluation: base against the adapter, the rule, the majority baseline and the confusion matrix', () => {
    const truth = ['ham', 'ham', 'ham', 'spam'];
    const card = adapterCardMarkdown({
      baseModel: 'stories260K.gguf', adapter: { rank: 2, alpha: 4, dropout: 0, targets: ['q_proj'], layers: null, rslora: false, init: 'default', seed: 0 }, trainableParams: 40,
      evaluation: { step: 7, base: labelReport(['ham', 'spam'], truth, ['ham', 'ham', 'ham', 'ham']), tuned: labelReport(['ham', 'spam'], truth, ['ham', 'ham', 'spam', 'spam']) },
    });
    expect(card).toContain('On the 4 validation rows (never trained on), the adapter of step 7 against the base model.');
    expect(card).toContain(LABEL_RULE_SENTENCE);
    expect(card).toContain('| accuracy | 75.0% | 75.0% |');
    expect(card).toContain("| always answering 'ham' | 75.0% | 75.0% |");
    expect(card).toContain('Not better than always answering “ham” yet');
    expect(card).toContain('| ham | 2 | 1 |\n| spam | 0 | 1 |');
  });
});
