import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { numberOption, parseArgs, stringOption, UsageError, type ParsedArgs } from '../args.ts';
import { parseDataset } from '../../data/parse.ts';
import { adapterName } from '../../gpu/device.ts';
import { cliGpu } from '../gpu.ts';
import { openModel } from '../../model/load-cli.ts';
import { formatReport, runBench, type BenchReport } from '../../../bench/run.ts';
import { DEFAULT_TIMING, QUICK_TIMING } from '../../../bench/timing.ts';
import { DEFAULT_TRAIN_DATA, DEFAULT_TRAIN_MODEL, formatTrainReport, runTrainBench, type TrainBenchReport } from '../../../bench/train.ts';
import { formatPlanTargets, runPlanTargets, type PlanTargetReport } from '../../../bench/plan-targets.ts';
import { planCheck, randomReplica, type PlanCheck } from '../../../bench/replica.ts';
import { formatReductionReport, runReductionBench } from '../../../bench/reductions.ts';
import { QWEN25_05B } from '../../../tests/model/config-hub-samples.ts';
import { formatBytes } from '../../gpu/pool.ts';

function listOption(a: ParsedArgs, name: string, fallback: number[]): number[] {
  const raw = stringOption(a, name);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new UsageError(`--${name} ${raw}: expected whole numbers ≥ 1 separated by commas.`);
  return values;
}

function pathOption(a: ParsedArgs, name: string, fallback: string, what: string): string {
  const path = stringOption(a, name);
  if (path !== undefined) {
    if (!path.startsWith('hf:') && !existsSync(path)) throw new UsageError(`--${name} ${path}: no such file or folder.`);
    return path;
  }
  if (!existsSync(fallback)) throw new UsageError(`the training benchmark reads ${what} from ${fallback}, which does not exist; pass --${name} PATH or --skip-training.`);
  return fallback;
}

function formatPlanCheck(c: PlanCheck): string {
  return `plan check: ${c.model}, one training step at B=${c.batchSize}, T=${c.seqLen} (recompute ${c.recompute}): measured pool peak ${formatBytes(c.measuredBytes)}, ` +
    `planned ${formatBytes(c.plannedBytes)} (${(100 * c.relError).toFixed(2)}% apart), step ${c.stepSeconds.toFixed(1)} s\n`;
}

/**
 * `tsugiki bench [--quick] [--json] [--skip-kernels] [--skip-training] [--plan-only] [--plan-check]`
 *   plan:     planned peak memory of r=16 all-linear LoRA on Qwen2.5-0.5B, Llama-3.2-1B and -3B
 *             against their targets (bench/plan-targets.ts; no GPU); --plan-only prints just that.
 *   --plan-check [--recompute|--no-recompute] [--layers N]: one real training step (B=2, T=64) on a
 *             random-weight replica of Qwen2.5-0.5B's exact config (bf16; --layers keeps only the
 *             first N blocks), its measured pool peak against the plan.
 *   --reductions [--rows M] [--sizes 1024,2048] [--vocabs 4096]: RMSNorm, LayerNorm (forward and
 *             backward), cross-entropy forward and the norm of 2²⁰ gradients with and without WebGPU subgroups, on a device
 *             that has them (bench/reductions.ts); prints just that.
 *   kernels:  [--rows M] [--sizes 64,256] [--ranks 8,16]: tsugiki's matmul and LoRA layer against
 *             tfjs-backend-webgpu on the same device, jax-js on the same adapter, and the FMA peak;
 *             [--decode-size C] [--decode-mib F]: the M = 1 matmul of generation on Q4_K and Q8_0
 *             weights [C, C] (rows kernel and general kernels) in GB/s, cycling through F MiB of
 *             copies, against the read bandwidth measured over F MiB.
 *   training: [--model MODEL] [--data DATA] [--batch-size B] [--seq-len T] [--steps N]: tokens/s
 *             and GPU memory of the trainer's LoRA step (see bench/train.ts), against a full
 *             fine-tune's memory. MODEL defaults to stories260K.gguf, DATA to the SMS spam rows, in
 *             the shared data folder beside the repository.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['rows', 'sizes', 'ranks', 'vocabs', 'decode-size', 'decode-mib', 'model', 'data', 'batch-size', 'seq-len', 'steps', 'layers'],
    ['json', 'quick', 'skip-kernels', 'skip-training', 'plan-only', 'plan-check', 'recompute', 'no-recompute', 'reductions']);
  if (args.positionals.length) throw new UsageError(`bench takes no positional arguments (got ${args.positionals.join(' ')}); give the model with --model PATH.`);
  const json = args.options.has('json');
  const plan = runPlanTargets();
  if (args.options.has('plan-only')) {
    process.stdout.write(json ? `${JSON.stringify({ plan })}\n` : formatPlanTargets(plan));
    return 0;
  }
  if (args.options.has('plan-check')) {
    const gpu = await cliGpu();
    try {
      const recompute = args.options.has('recompute') ? 'on' : args.options.has('no-recompute') ? 'off' : 'auto';
      const layers = numberOption(args, 'layers', QWEN25_05B.num_hidden_layers, { integer: true, min: 1 });
      const name = `Qwen2.5-0.5B (random bf16 replica${layers === QWEN25_05B.num_hidden_layers ? '' : `, first ${layers} layers`})`;
      const check = await planCheck(gpu, randomReplica({ ...QWEN25_05B, num_hidden_layers: layers }, name), {
        batchSize: numberOption(args, 'batch-size', 2, { integer: true, min: 1 }), seqLen: numberOption(args, 'seq-len', 64, { integer: true, min: 2 }),
        recompute, log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(json ? `${JSON.stringify({ plan, plan_check: check })}\n` : formatPlanTargets(plan) + formatPlanCheck(check));
      return check.relError <= 0.05 ? 0 : 1;
    } finally {
      gpu.destroy();
    }
  }
  const quick = args.options.has('quick');
  if (args.options.has('reductions')) return reductions(args, json, quick);
  const kernels = !args.options.has('skip-kernels');
  const training = !args.options.has('skip-training');
  if (!kernels && !training) throw new UsageError('--skip-kernels and --skip-training together leave nothing to measure; drop one.');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const kernelOptions = {
    rows: numberOption(args, 'rows', 512, { integer: true, min: 1 }),
    sizes: listOption(args, 'sizes', quick ? [64, 256] : [64, 256, 512, 1024]),
    ranks: listOption(args, 'ranks', quick ? [8] : [8, 16]),
    decodeSize: numberOption(args, 'decode-size', quick ? 1024 : 2048, { integer: true, min: 256 }),
    decodeFootprint: numberOption(args, 'decode-mib', quick ? 16 : 64, { min: 0.0625 }) * 2 ** 20,
    timing: quick ? QUICK_TIMING : DEFAULT_TIMING,
    log,
  };
  const train = training
    ? {
        modelPath: pathOption(args, 'model', DEFAULT_TRAIN_MODEL, 'its model'),
        dataPath: pathOption(args, 'data', DEFAULT_TRAIN_DATA, 'its rows'),
        batch: numberOption(args, 'batch-size', 16, { integer: true, min: 1 }),
        seqLen: numberOption(args, 'seq-len', 128, { integer: true, min: 2 }),
        steps: numberOption(args, 'steps', quick ? 3 : 10, { integer: true, min: 1 }),
      }
    : null;
  if (kernelOptions.decodeSize % 256 !== 0) throw new UsageError(`--decode-size ${kernelOptions.decodeSize}: rows must be whole Q4_K blocks; give a multiple of 256.`);
  const gpu = await cliGpu();
  try {
    const report: Partial<BenchReport> & { adapter: string; training?: TrainBenchReport; plan?: PlanTargetReport[] } = kernels
      ? await runBench(gpu, kernelOptions)
      : { adapter: adapterName(gpu.adapter) };
    if (train) {
      const model = await openModel(train.modelPath, { onProgress: log });
      const rows = parseDataset(new Uint8Array(readFileSync(train.dataPath)), basename(train.dataPath)).rows;
      report.training = await runTrainBench(gpu, {
        model, modelName: train.modelPath, rows, dataName: basename(train.dataPath),
        batch: train.batch, seqLen: train.seqLen, steps: train.steps, log,
      });
    }
    report.plan = plan;
    if (json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const sections = [kernels ? formatReport(report as BenchReport) : `adapter: ${report.adapter}\n`];
      if (report.training) sections.push(formatTrainReport(report.training));
      sections.push(formatPlanTargets(plan));
      process.stdout.write(sections.join('\n'));
    }
  } finally {
    gpu.destroy();
  }
  return 0;
}

async function reductions(args: ParsedArgs, json: boolean, quick: boolean): Promise<number> {
  const gpu = await cliGpu();
  try {
    if (!gpu.adapter.subgroups) {
      throw new UsageError(`--reductions compares the subgroup and workgroup-memory paths, but ${adapterName(gpu.adapter)} has no WebGPU subgroups (or TSUGIKI_NO_SUBGROUPS=1 is set).`);
    }
    const cases = await runReductionBench(gpu, {
      rows: numberOption(args, 'rows', 512, { integer: true, min: 1 }),
      widths: listOption(args, 'sizes', quick ? [1024] : [1024, 2048]),
      vocabs: listOption(args, 'vocabs', [4096]),
      gradients: 1 << 20,
      timing: quick ? QUICK_TIMING : DEFAULT_TIMING,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const adapter = adapterName(gpu.adapter);
    const sizes = `subgroup size ${gpu.adapter.subgroupMinSize}–${gpu.adapter.subgroupMaxSize}`;
    process.stdout.write(json ? `${JSON.stringify({ adapter, reductions: cases })}\n` : `adapter: ${adapter} (${sizes})\n\n${formatReductionReport(cases)}`);
  } finally {
    gpu.destroy();
  }
  return 0;
}
