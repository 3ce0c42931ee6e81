/**
 * "Continue on a GPU server": a folder that trains the same adapter with Hugging Face TRL + PEFT
 * where the browser is not enough (bigger data, longer runs, several GPUs):
 *
 *   train.py                 TRL SFTTrainer + PEFT LoraConfig with the run's exact settings
 *   requirements.txt         pinned versions (gpu-server-script.ts)
 *   accelerate_config.yaml   multi-GPU with DeepSpeed ZeRO-2
 *   axolotl.yaml             the same run for axolotl (+ deepspeed_zero2.json)
 *   data/train.jsonl         the run's training rows, rendered in its prompt format:
 *   data/validation.jsonl      {"prompt": …, "completion": …} (the same split and seed as the run)
 *   adapter/                 the adapter trained so far (PEFT), which train.py continues from
 *   base-model/              the base model in Hugging Face layout when it is not on the Hub
 *                            (a GGUF file is converted, src/train/merge-files.ts)
 *   settings.json, README.md
 */
import type { Row } from '../data/dataset.ts';
import { formatExample } from '../data/prompt.ts';
import { splitTrainVal } from '../data/split.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { planAdapterLayout } from '../lora/layout.ts';
import { exportPeftAdapter, peftTargetModules } from '../lora/peft.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { totalSteps } from './data.ts';
import type { ExportAdapter } from './gguf-export.ts';
import { accelerateYaml, axolotlYaml, deepspeedZero2Json, PINNED_REQUIREMENTS, trainPy, type ScriptSettings } from './gpu-server-script.ts';
import { COPIED_FILES, mergedModelFiles } from './merge-files.ts';
import type { TrainOptions } from './options.ts';
import { warmupSteps } from './schedule.ts';

export interface GpuServerInput {
  model: LoadedModel;
  /** The model's files (a GGUF file, or the HF folder's files). */
  files: Record<string, Uint8Array>;
  /** `owner/name` when the model comes from the Hugging Face Hub (train.py downloads it), else null. */
  hubId: string | null;
  rows: Row[];
  options: TrainOptions;
  useChatTemplate: boolean;
  /** The adapter trained so far, to continue from; null to start fresh. */
  adapter: ExportAdapter | null;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** One row as TRL's prompt-completion record, in the run's prompt format. */
export function renderedRow(tokenizer: Tokenizer, row: Row, useChatTemplate: boolean, eosText: string): { prompt: string; completion: string } {
  const parts = formatExample(tokenizer, row, useChatTemplate);
  let prompt = parts.prompt;
  // The Hugging Face tokenizer adds BOS itself when the model's does; the text must not hold a second one.
  const bos = tokenizer.bosId === null ? null : tokenizer.idToToken(tokenizer.bosId);
  if (useChatTemplate && tokenizer.addsBos && bos && prompt.startsWith(bos)) prompt = prompt.slice(bos.length);
  return { prompt, completion: parts.completion + (parts.appendEos ? eosText : '') };
}

function scheduler(o: TrainOptions, warmup: number): string {
  if (o.schedule === 'constant') return warmup > 0 ? 'constant_with_warmup' : 'constant';
  return o.schedule;
}

export function scriptSettings(input: GpuServerInput, trainRows: number, valRows: number, eosToken: string, baseModel: string): ScriptSettings {
  const o = input.options;
  const a = o.adapter;
  const S = totalSteps(trainRows, o);
  const evalSteps = valRows === 0 ? null : o.evalEvery === null ? Math.max(1, Math.ceil(S / 10)) : o.evalEvery === 0 ? S : o.evalEvery;
  return {
    baseModel,
    lora: {
      r: a.rank, alpha: a.alpha, dropout: a.dropout, targetModules: peftTargetModules(a, input.model.config.arch),
      layers: a.layers === null ? null : [...new Set(a.layers)].sort((x, y) => x - y), rslora: a.rslora, gaussianInit: a.init === 'gaussian',
    },
    lr: o.lr, epochs: o.epochs, maxSteps: o.steps, batchSize: o.batchSize, gradAccum: o.gradAccum, seqLen: o.seqLen,
    warmupSteps: warmupSteps(o.warmup, S), scheduler: scheduler(o, warmupSteps(o.warmup, S)), weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm,
    optim: o.optimizer === 'sgd' ? 'sgd' : 'adamw_torch', beta1: o.beta1, beta2: o.beta2, eps: o.eps, seed: o.seed,
    evalSteps, eosToken, hasAdapter: input.adapter !== null,
  };
}

function baseModelFiles(input: GpuServerInput): Record<string, Uint8Array> {
  const { model, files } = input;
  if (model.format === 'safetensors') {
    const out: Record<string, Uint8Array> = {};
    for (const [name, bytes] of Object.entries(files)) if (name.endsWith('.safetensors') || name === 'config.json' || name === 'model.safetensors.index.json' || COPIED_FILES.includes(name)) out[name] = bytes;
    return out;
  }
  // A zero-scale merge writes the GGUF weights unchanged in Hugging Face names and layout.
  const layout = planAdapterLayout([], 1);
  return mergedModelFiles(model, files, { layout, params: new Float32Array(0), scale: 0 });
}

function readme(s: ScriptSettings, trainRows: number, valRows: number, shipsBase: boolean): string {
  return `# Continue this tsugiki run on a GPU server

${trainRows} training rows and ${valRows} validation rows, rendered in the run's prompt format
(\`data/*.jsonl\`: \`prompt\` + \`completion\`; the loss is on the completion only, as in tsugiki).
LoRA r=${s.lora.r}, alpha=${s.lora.alpha}${s.lora.rslora ? ' (rsLoRA)' : ''}, dropout ${s.lora.dropout} on ${s.lora.targetModules.join(', ')}${s.lora.layers ? ` in layers ${s.lora.layers.join(', ')}` : ''};
lr ${s.lr} (${s.scheduler}, ${s.warmupSteps} warmup steps), batch ${s.batchSize} × ${s.gradAccum} accumulation, sequence length ${s.seqLen}, seed ${s.seed}.

    pip install -r requirements.txt
    python train.py                                                   # one GPU
    accelerate launch --config_file accelerate_config.yaml train.py   # several GPUs (DeepSpeed ZeRO-2; set num_processes)
    axolotl train axolotl.yaml                                        # the same run with axolotl

${s.hasAdapter ? 'train.py continues from the adapter trained in tsugiki (`adapter/`); `python train.py --fresh` starts over.\n' : ''}The adapter is written to \`output/\` (adapter_config.json + adapter_model.safetensors): import it in
tsugiki's Export step to compare it or export it to GGUF.
${shipsBase ? '\nThe base model is in `base-model/` (Hugging Face layout).\n' : `\nThe base model (${s.baseModel}) is downloaded from the Hugging Face Hub on the first run.\n`}
Differences from tsugiki: TRL cuts rows longer than the sequence length at the end (tsugiki cuts the
prompt from the left and keeps the answer), and with several GPUs the global batch is
batch × GPUs × accumulation (divide the batch size to keep the run's).
`;
}

/** The folder's files by path. */
export function gpuServerFiles(input: GpuServerInput): Record<string, Uint8Array> {
  const { model, options } = input;
  const tok = model.tokenizer;
  const eosText = tok.eosId === null ? '' : (tok.idToToken(tok.eosId) ?? '');
  const end = input.useChatTemplate ? tok.chatEndOfTurn : null;
  const eosToken = end && tok.encode(end, { addBos: false }).length === 1 ? end : eosText;
  if (!eosToken) throw new Error('GPU server export: the model has no EOS token to end the answers with');
  const split = splitTrainVal(input.rows.length, options.valSplit, options.seed);
  const jsonl = (idx: number[]) => enc(idx.map((i) => JSON.stringify(renderedRow(tok, input.rows[i], input.useChatTemplate, eosText))).join('\n') + (idx.length ? '\n' : ''));
  const shipsBase = input.hubId === null;
  const s = scriptSettings(input, split.train.length, split.val.length, eosToken, input.hubId ?? 'base-model');
  const out: Record<string, Uint8Array> = {
    'train.py': enc(trainPy(s)),
    'requirements.txt': enc(`${PINNED_REQUIREMENTS.join('\n')}\n`),
    'accelerate_config.yaml': enc(accelerateYaml(options.gradAccum, options.maxGradNorm)),
    'axolotl.yaml': enc(axolotlYaml(s)),
    'deepspeed_zero2.json': enc(deepspeedZero2Json(options.gradAccum, options.maxGradNorm, options.batchSize)),
    'data/train.jsonl': jsonl(split.train),
    'settings.json': enc(`${JSON.stringify({ base_model: s.baseModel, use_chat_template: input.useChatTemplate, options }, null, 2)}\n`),
    'README.md': enc(readme(s, split.train.length, split.val.length, shipsBase)),
  };
  if (split.val.length > 0) out['data/validation.jsonl'] = jsonl(split.val);
  if (input.adapter) {
    for (const [name, bytes] of Object.entries(exportPeftAdapter(input.adapter.layout, input.adapter.params, { ...input.adapter.cfg, baseModel: s.baseModel }, model.config.arch))) out[`adapter/${name}`] = bytes;
  }
  if (shipsBase) for (const [name, bytes] of Object.entries(baseModelFiles(input))) out[`base-model/${name}`] = bytes;
  return out;
}
