/**
 * The "Continue on a GPU server" folder: train.py parses (Python's own `ast`, Debian python3) and
 * every keyword it passes to LoraConfig and SFTConfig is a field those classes define, with the
 * run's values; the data is the run's split rendered in its prompt format; the base model and
 * the adapter in the folder load back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/data/dataset.ts';
import { splitTrainVal } from '../../src/data/split.ts';
import { planAdapterLayout, slotView } from '../../src/lora/layout.ts';
import { adapterModules } from '../../src/lora/modules.ts';
import { importPeftAdapter } from '../../src/lora/peft-import.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { run as runGgufExport } from '../../src/cli/commands/export-gguf.ts';
import { run as runGpuServer } from '../../src/cli/commands/export-gpu-server.ts';
import { gpuServerFiles } from '../../src/train/gpu-server.ts';
import { defaultTrainSettings, type TrainOptions } from '../../src/train/options.ts';

const STORIES = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url).pathname;

/** peft 0.19.1, src/peft/tuners/lora/config.py LoraConfig fields + PeftConfig's (src/peft/config.py). */
const LORA_CONFIG_FIELDS = [
  'r', 'target_modules', 'exclude_modules', 'lora_alpha', 'lora_dropout', 'fan_in_fan_out', 'bias', 'use_rslora', 'modules_to_save',
  'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern', 'megatron_config', 'megatron_core',
  'trainable_token_indices', 'loftq_config', 'eva_config', 'corda_config', 'lora_ga_config', 'use_dora', 'alora_invocation_tokens',
  'use_qalora', 'qalora_group_size', 'layer_replication', 'runtime_config', 'lora_bias', 'target_parameters', 'use_bdlora',
  'arrow_config', 'ensure_weight_tying',
  'task_type', 'peft_type', 'auto_mapping', 'peft_version', 'base_model_name_or_path', 'revision', 'inference_mode',
];

/** trl 1.9.0, trl/trainer/sft_config.py SFTConfig fields + trl/trainer/base_config.py _BaseConfig's. */
const SFT_CONFIG_FIELDS = [
  'learning_rate', 'model_init_kwargs', 'router_aux_loss_coef', 'trust_remote_code', 'chat_template_path', 'dataset_text_field',
  'dataset_kwargs', 'dataset_num_proc', 'eos_token', 'max_length', 'truncation_mode', 'shuffle_dataset', 'packing', 'packing_strategy',
  'padding_free', 'pad_to_multiple_of', 'eval_packing', 'completion_only_loss', 'assistant_only_loss', 'loss_type', 'activation_offloading',
  'pad_token', 'logging_steps', 'gradient_checkpointing', 'lr_scheduler_kwargs', 'use_liger_kernel', 'torch_empty_cache_steps',
];

/** transformers 5.x TrainingArguments (its docstring's parameters; SFTConfig inherits them). */
const TRAINING_ARGUMENTS_FIELDS = [
  'output_dir', 'per_device_train_batch_size', 'num_train_epochs', 'max_steps', 'learning_rate', 'lr_scheduler_type', 'lr_scheduler_kwargs',
  'warmup_steps', 'optim', 'optim_args', 'weight_decay', 'adam_beta1', 'adam_beta2', 'adam_epsilon', 'optim_target_modules',
  'gradient_accumulation_steps', 'average_tokens_across_devices', 'max_grad_norm', 'label_smoothing_factor', 'bf16', 'fp16',
  'bf16_full_eval', 'fp16_full_eval', 'tf32', 'gradient_checkpointing', 'gradient_checkpointing_kwargs', 'torch_compile',
  'torch_compile_backend', 'torch_compile_mode', 'use_liger_kernel', 'liger_kernel_config', 'use_cache', 'neftune_noise_alpha',
  'torch_empty_cache_steps', 'auto_find_batch_size', 'logging_strategy', 'logging_steps', 'logging_first_step', 'log_on_each_node',
  'logging_nan_inf_filter', 'include_num_input_tokens_seen', 'log_level', 'log_level_replica', 'disable_tqdm', 'report_to', 'run_name',
  'project', 'trackio_space_id', 'eval_strategy', 'eval_steps', 'eval_delay', 'per_device_eval_batch_size', 'prediction_loss_only',
  'eval_on_start', 'eval_do_concat_batches', 'eval_use_gather_object', 'eval_accumulation_steps', 'include_for_metrics',
  'batch_eval_metrics', 'save_only_model', 'save_strategy', 'save_steps', 'save_on_each_node', 'save_total_limit',
  'enable_jit_checkpoint', 'push_to_hub', 'hub_token', 'hub_private_repo', 'hub_model_id', 'hub_strategy', 'hub_always_push',
  'hub_revision', 'load_best_model_at_end', 'metric_for_best_model', 'greater_is_better', 'ignore_data_skip',
  'restore_callback_states_from_checkpoint', 'seed', 'data_seed',
];

/** Prints {call name: {keyword: literal value or "<expr>"}} for every LoraConfig / SFTConfig call. */
const AST_SCRIPT = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read(), sys.argv[1])
out = {}
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("LoraConfig", "SFTConfig", "SFTTrainer"):
        kws = {}
        for k in node.keywords:
            try:
                kws[k.arg] = ast.literal_eval(k.value)
            except ValueError:
                kws[k.arg] = "<expr>"
        out[node.func.id] = kws
print(json.dumps(out))
`;

const rows: Row[] = Array.from({ length: 20 }, (_, i) => ({ input: `Lily found ${i} red balls in the park.`, output: i % 3 === 0 ? 'happy' : 'sad', line: i + 2 }));

describe('Continue on a GPU server', () => {
  const model = loadModelFiles({ 'stories260K.gguf': new Uint8Array(readFileSync(STORIES)) }, 'stories260K.gguf');
  const files = { 'stories260K.gguf': new Uint8Array(readFileSync(STORIES)) };
  const options: TrainOptions = {
    ...defaultTrainSettings(),
    adapter: { rank: 4, alpha: 12, dropout: 0.1, targets: ['q_proj', 'v_proj', 'down_proj'], layers: [3, 1], rslora: true, init: 'default', seed: 5 },
    lr: 3e-4, epochs: 2, batchSize: 4, gradAccum: 2, seqLen: 48, warmup: 0.1, schedule: 'cosine', weightDecay: 0.01, seed: 7, valSplit: 0.25,
  };
  const layout = planAdapterLayout(adapterModules(model.config, options.adapter), 4);
  const params = new Float32Array(layout.totalFloats);
  for (const e of layout.entries) for (const slot of [e.a, e.b]) slotView(params, slot).forEach((_, i, v) => (v[i] = Math.sin(slot.offset + i) * 0.01));
  const folder = gpuServerFiles({ model, files, hubId: null, rows, options, useChatTemplate: false, adapter: { layout, params, cfg: options.adapter } });
  const text = (name: string) => new TextDecoder().decode(folder[name]);

  it('train.py parses and passes only LoraConfig / SFTConfig fields, with the run\'s values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-gpu-server-'));
    writeFileSync(join(dir, 'train.py'), folder['train.py']);
    writeFileSync(join(dir, 'check.py'), AST_SCRIPT);
    const calls = JSON.parse(execFileSync('python3', [join(dir, 'check.py'), join(dir, 'train.py')], { encoding: 'utf8' })) as Record<string, Record<string, unknown>>;
    const lora = calls.LoraConfig;
    const sft = calls.SFTConfig;
    for (const k of Object.keys(lora)) expect(LORA_CONFIG_FIELDS, `LoraConfig(${k}=…)`).toContain(k);
    const sftFields = new Set([...SFT_CONFIG_FIELDS, ...TRAINING_ARGUMENTS_FIELDS]);
    for (const k of Object.keys(sft)) expect(sftFields.has(k), `SFTConfig(${k}=…)`).toBe(true);
    expect(lora).toMatchObject({ r: 4, lora_alpha: 12, lora_dropout: 0.1, target_modules: ['down_proj', 'q_proj', 'v_proj'], layers_to_transform: [1, 3], use_rslora: true, bias: 'none', task_type: 'CAUSAL_LM' });
    const trainRows = splitTrainVal(rows.length, 0.25, 7).train.length;
    const S = Math.ceil(2 * Math.ceil(Math.ceil(trainRows / 4) / 2));
    expect(sft).toMatchObject({
      learning_rate: 3e-4, num_train_epochs: 2, max_steps: -1, per_device_train_batch_size: 4, gradient_accumulation_steps: 2, max_length: 48,
      lr_scheduler_type: 'cosine', warmup_steps: Math.ceil(0.1 * S), weight_decay: 0.01, max_grad_norm: 1, optim: 'adamw_torch',
      adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, seed: 7, data_seed: 7, completion_only_loss: true, eos_token: '</s>',
    });
    expect(Object.keys(calls.SFTTrainer).sort()).toEqual(['args', 'eval_dataset', 'model', 'peft_config', 'processing_class', 'train_dataset']);
  });

  it('the data is the run\'s split in its prompt format, and the requirements are pinned', () => {
    const split = splitTrainVal(rows.length, 0.25, 7);
    const train = text('data/train.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; completion: string });
    const val = text('data/validation.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; completion: string });
    expect(train.map((r) => r.prompt)).toEqual(split.train.map((i) => `${rows[i].input}\n### Answer:\n`));
    expect(train.map((r) => r.completion)).toEqual(split.train.map((i) => `${rows[i].output}</s>`));
    expect(val).toHaveLength(split.val.length);
    for (const line of text('requirements.txt').trim().split('\n')) expect(line).toMatch(/^[a-z-]+==\d+\.\d+\.\d+$/);
    expect(text('accelerate_config.yaml')).toMatch(/distributed_type: DEEPSPEED[\s\S]*zero_stage: 2/);
    expect(text('axolotl.yaml')).toMatch(/lora_r: 4\n[\s\S]*lora_alpha: 12[\s\S]*peft_layers_to_transform: \[1, 3\][\s\S]*sequence_len: 48/);
  });

  it('the base model and the adapter in the folder load back', () => {
    const base: Record<string, Uint8Array> = {};
    for (const [name, bytes] of Object.entries(folder)) if (name.startsWith('base-model/')) base[name.slice('base-model/'.length)] = bytes;
    const reloaded = loadModelFiles(base, 'base-model');
    expect(reloaded.config).toMatchObject({ hidden: 64, layers: 5, vocabSize: 512 });
    expect(Array.from(reloaded.weights.toF32('model.layers.2.mlp.down_proj.weight'))).toEqual(Array.from(model.weights.toF32('model.layers.2.mlp.down_proj.weight')));
    const adapter = importPeftAdapter(folder['adapter/adapter_config.json'], folder['adapter/adapter_model.safetensors'], model.config);
    expect(Array.from(adapter.params)).toEqual(Array.from(params));
    expect(JSON.parse(text('adapter/adapter_config.json')).base_model_name_or_path).toBe('base-model');
  });
});

describe('tsugiki export-gpu-server and export-gguf on the command line', () => {
  it('writes the folder with the adapter\'s settings and the flags\' schedule; bad options are refused with the choices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-gpu-cli-'));
    const model = loadModelFiles({ 'stories260K.gguf': new Uint8Array(readFileSync(STORIES)) }, 'stories260K.gguf');
    const cfg = { rank: 2, alpha: 5, dropout: 0, targets: ['q_proj'], layers: null, rslora: false, init: 'default' as const, seed: 0 };
    const layout = planAdapterLayout(adapterModules(model.config, cfg), 2);
    for (const [name, bytes] of Object.entries(exportPeftAdapter(layout, new Float32Array(layout.totalFloats), cfg, 'llama'))) writeFileSync(join(dir, name), bytes);
    writeFileSync(join(dir, 'data.csv'), ['text,label', ...rows.map((r) => `${r.input},${r.output}`)].join('\n'));
    const out = join(dir, 'gpu');
    expect(await runGpuServer([STORIES, '--data', join(dir, 'data.csv'), '--adapter', dir, '--out', out, '--lr', '1e-3', '--schedule', 'constant', '--warmup', '3'])).toBe(0);
    const settings = JSON.parse(readFileSync(join(out, 'settings.json'), 'utf8'));
    expect(settings.options.adapter).toMatchObject({ rank: 2, alpha: 5, targets: ['q_proj'] });
    expect(settings.options).toMatchObject({ lr: 1e-3, schedule: 'constant', warmup: 3 });
    const trainPy = readFileSync(join(out, 'train.py'), 'utf8');
    expect(trainPy).toContain('lr_scheduler_type="constant_with_warmup"');
    expect(trainPy).toContain('warmup_steps=3,');
    await expect(runGgufExport([STORIES, '--adapter', dir, '--merged', 'q5_k', '--out', join(dir, 'x')])).rejects.toThrow(/--merged q5_k: choose one of f32, f16, q8_0, q4_k_m/);
    await expect(runGgufExport([STORIES, '--adapter', dir])).rejects.toThrow(/--out is required/);
  });
});
