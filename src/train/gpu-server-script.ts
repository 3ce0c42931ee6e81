/**
 * The text files of the "Continue on a GPU server" folder: train.py (Hugging Face TRL + PEFT),
 * requirements.txt, the accelerate config (multi-GPU, DeepSpeed ZeRO-2) and the axolotl YAML,
 * all carrying the run's exact settings as literals. Versions are pinned to the releases whose
 * LoraConfig / SFTConfig / TrainingArguments fields the script uses (tests/train/gpu-server.test.ts
 * checks every keyword against those lists).
 */

/** A value as a Python literal (JSON is Python, except for true/false/null). */
export function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`train.py: ${v} has no Python literal`);
    return Number.isInteger(v) ? String(v) : String(v).includes('e') || String(v).includes('.') ? String(v) : `${v}.0`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  throw new Error(`train.py: no Python literal for ${typeof v}`);
}

/** A float literal even for whole numbers (Python would read 2 as an int). */
export const pyFloat = (x: number) => (Number.isInteger(x) ? `${x}.0` : py(x));

export const PINNED_REQUIREMENTS = [
  'torch==2.8.0',
  'transformers==5.0.0',
  'trl==1.9.0',
  'peft==0.19.1',
  'accelerate==1.10.1',
  'datasets==4.7.0',
  'deepspeed==0.17.5',
];

export interface ScriptSettings {
  baseModel: string;
  lora: {
    r: number; alpha: number; dropout: number; targetModules: string[]; layers: number[] | null; rslora: boolean; gaussianInit: boolean;
  };
  lr: number;
  epochs: number;
  /** null: run by epochs. */
  maxSteps: number | null;
  batchSize: number;
  gradAccum: number;
  seqLen: number;
  warmupSteps: number;
  /** transformers' lr_scheduler_type. */
  scheduler: string;
  weightDecay: number;
  maxGradNorm: number;
  /** transformers' optim. */
  optim: string;
  beta1: number;
  beta2: number;
  eps: number;
  seed: number;
  /** null: no validation rows. */
  evalSteps: number | null;
  /** The token that ends every completion (TRL appends it when missing). */
  eosToken: string;
  hasAdapter: boolean;
}

export function trainPy(s: ScriptSettings): string {
  const l = s.lora;
  const hasVal = s.evalSteps !== null;
  return `"""Continue a tsugiki LoRA run on a GPU server with Hugging Face TRL + PEFT.

The settings below are the run's own (rank, alpha, dropout, rsLoRA, modules, layers, schedule,
batch, accumulation, sequence length, seed); data/*.jsonl hold its rows already rendered in its
prompt format (prompt + completion, the loss on the completion only).

    pip install -r requirements.txt
    python train.py                                                    # one GPU
    accelerate launch --config_file accelerate_config.yaml train.py    # several GPUs, DeepSpeed ZeRO-2

By default training continues from the adapter trained in tsugiki (adapter/); --fresh starts a new one.
The result is a PEFT adapter in --output-dir, which tsugiki imports back.
"""
import argparse
import os

from datasets import load_dataset
from peft import LoraConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_MODEL = ${py(s.baseModel)}


def main():
    parser = argparse.ArgumentParser(description="Continue the tsugiki LoRA run with TRL + PEFT")
    parser.add_argument("--output-dir", default=os.path.join(HERE, "output"))
    parser.add_argument("--fresh", action="store_true", help="train a new adapter instead of continuing from adapter/")
    args = parser.parse_args()

    base = BASE_MODEL if not os.path.isdir(os.path.join(HERE, BASE_MODEL)) else os.path.join(HERE, BASE_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # The checkpoint's own precision, as tsugiki keeps it; compute stays in f32 below.
    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")

    lora_config = LoraConfig(
        r=${py(l.r)},
        lora_alpha=${py(l.alpha)},
        lora_dropout=${pyFloat(l.dropout)},
        target_modules=${py(l.targetModules)},
        layers_to_transform=${py(l.layers)},
        use_rslora=${py(l.rslora)},
        init_lora_weights=${l.gaussianInit ? '"gaussian"' : 'True'},
        bias="none",
        task_type="CAUSAL_LM",
    )
    peft_config = lora_config
    adapter_dir = os.path.join(HERE, "adapter")
    if ${py(s.hasAdapter)} and not args.fresh:
        model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)
        peft_config = None

    files = {"train": os.path.join(HERE, "data", "train.jsonl")${hasVal ? ', "validation": os.path.join(HERE, "data", "validation.jsonl")' : ''}}
    data = load_dataset("json", data_files=files)

    training_args = SFTConfig(
        output_dir=args.output_dir,
        learning_rate=${pyFloat(s.lr)},
        num_train_epochs=${pyFloat(s.epochs)},
        max_steps=${s.maxSteps ?? -1},
        per_device_train_batch_size=${s.batchSize},
        per_device_eval_batch_size=${s.batchSize},
        gradient_accumulation_steps=${s.gradAccum},
        max_length=${s.seqLen},
        lr_scheduler_type=${py(s.scheduler)},
        warmup_steps=${s.warmupSteps},
        weight_decay=${pyFloat(s.weightDecay)},
        max_grad_norm=${pyFloat(s.maxGradNorm)},
        optim=${py(s.optim)},
        adam_beta1=${pyFloat(s.beta1)},
        adam_beta2=${pyFloat(s.beta2)},
        adam_epsilon=${py(s.eps)},
        seed=${s.seed},
        data_seed=${s.seed},
        completion_only_loss=True,
        packing=False,
        eos_token=${py(s.eosToken)},
        eval_strategy=${hasVal ? '"steps"' : '"no"'},
        eval_steps=${s.evalSteps ?? 'None'},
        logging_steps=1,
        save_strategy="no",
        gradient_checkpointing=False,
        # f32 compute, as tsugiki trained; bf16=True is faster on recent GPUs and changes the numbers slightly.
        bf16=False,
        fp16=False,
        report_to="none",
    )
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=data["train"],
        eval_dataset=${hasVal ? 'data["validation"]' : 'None'},
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train()
    trainer.save_model(args.output_dir)


if __name__ == "__main__":
    main()
`;
}

export function accelerateYaml(gradAccum: number, maxGradNorm: number): string {
  return `# accelerate launch --config_file accelerate_config.yaml train.py
# Data parallel over the GPUs of this machine with DeepSpeed ZeRO-2 (optimizer state and gradients
# sharded). Set num_processes to the number of GPUs; the global batch is then
# per_device_train_batch_size × num_processes × gradient_accumulation_steps.
compute_environment: LOCAL_MACHINE
distributed_type: DEEPSPEED
deepspeed_config:
  gradient_accumulation_steps: ${gradAccum}
  gradient_clipping: ${maxGradNorm}
  offload_optimizer_device: none
  offload_param_device: none
  zero3_init_flag: false
  zero_stage: 2
downcast_bf16: 'no'
machine_rank: 0
main_training_function: main
mixed_precision: 'no'
num_machines: 1
num_processes: 2
rdzv_backend: static
same_network: true
use_cpu: false
`;
}

const yamlStr = (s: string) => JSON.stringify(s);

export function axolotlYaml(s: ScriptSettings): string {
  const l = s.lora;
  const lines = [
    '# axolotl train axolotl.yaml   (the same run as train.py, for axolotl users)',
    `base_model: ${yamlStr(s.baseModel)}`,
    'datasets:',
    '  - path: data/train.jsonl',
    '    ds_type: json',
    '    type:',
    '      field_instruction: prompt',
    '      field_output: completion',
    '      format: "{instruction}"',
    '      no_input_format: "{instruction}"',
    ...(s.evalSteps !== null
      ? ['test_datasets:', '  - path: data/validation.jsonl', '    ds_type: json', '    split: train', '    type:', '      field_instruction: prompt', '      field_output: completion', '      format: "{instruction}"', '      no_input_format: "{instruction}"', `eval_steps: ${s.evalSteps}`]
      : ['val_set_size: 0']),
    'train_on_inputs: false',
    'adapter: lora',
    ...(s.hasAdapter ? ['lora_model_dir: adapter'] : []),
    `lora_r: ${l.r}`,
    `lora_alpha: ${l.alpha}`,
    `lora_dropout: ${l.dropout}`,
    `lora_target_modules: [${l.targetModules.map(yamlStr).join(', ')}]`,
    ...(l.layers ? [`peft_layers_to_transform: [${l.layers.join(', ')}]`] : []),
    `peft_use_rslora: ${l.rslora}`,
    `sequence_len: ${s.seqLen}`,
    'sample_packing: false',
    `micro_batch_size: ${s.batchSize}`,
    `gradient_accumulation_steps: ${s.gradAccum}`,
    s.maxSteps !== null ? `max_steps: ${s.maxSteps}` : `num_epochs: ${s.epochs}`,
    `learning_rate: ${s.lr}`,
    `lr_scheduler: ${s.scheduler.replace('_with_warmup', '')}`,
    `warmup_steps: ${s.warmupSteps}`,
    `optimizer: ${s.optim}`,
    `adam_beta1: ${s.beta1}`,
    `adam_beta2: ${s.beta2}`,
    `adam_epsilon: ${s.eps}`,
    `weight_decay: ${s.weightDecay}`,
    `max_grad_norm: ${s.maxGradNorm}`,
    `seed: ${s.seed}`,
    'bf16: false',
    'fp16: false',
    'output_dir: ./output',
    '# several GPUs: accelerate launch -m axolotl.cli.train axolotl.yaml --deepspeed deepspeed_zero2.json',
  ];
  return `${lines.join('\n')}\n`;
}

/** The DeepSpeed ZeRO-2 file axolotl takes (accelerate's config carries the same settings). */
export function deepspeedZero2Json(gradAccum: number, maxGradNorm: number, batchSize: number): string {
  return `${JSON.stringify({
    zero_optimization: { stage: 2, overlap_comm: true, contiguous_gradients: true, reduce_bucket_size: 'auto' },
    gradient_accumulation_steps: gradAccum,
    gradient_clipping: maxGradNorm,
    train_micro_batch_size_per_gpu: batchSize,
    bf16: { enabled: false },
    fp16: { enabled: false },
  }, null, 2)}\n`;
}
