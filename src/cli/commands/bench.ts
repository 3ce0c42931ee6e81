import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { numberOption, parseArgs, stringOption, UsageError, type ParsedArgs } from '../args.ts';
import { parseDataset } from '../../data/parse.ts';
import { adapterName } from '../../gpu/device.ts';
import { createNodeGpu } from '../../gpu/node.ts';
import { openModel } from '../../model/load-cli.ts';
import { formatReport, runBench, type BenchReport } from '../../../bench/run.ts';
import { DEFAULT_TIMING, QUICK_TIMING } from '../../../bench/timing.ts';
import { DEFAULT_TRAIN_DATA, DEFAULT_TRAIN_MODEL, formatTrainReport, runTrainBench, type TrainBenchReport } from '../../../bench/train.ts';

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

/**
 * `tsugiki bench [--quick] [--json] [--skip-kernels] [--skip-training]`
 *   kernels:  [--rows M] [--sizes 64,256] [--ranks 8,16]: tsugiki's matmul and LoRA layer against
 *             tfjs-backend-webgpu on the same device, jax-js on the same adapter, and the FMA peak.
 *   training: [--model MODEL] [--data DATA] [--batch-size B] [--seq-len T] [--steps N]: tokens/s
 *             and GPU memory of the trainer's LoRA step (see bench/train.ts), against a full
 *             fine-tune's memory. MODEL defaults to stories260K.gguf, DATA to the SMS spam rows, in
 *             the shared data folder beside the repository.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['rows', 'sizes', 'ranks', 'model', 'data', 'batch-size', 'seq-len', 'steps'], ['json', 'quick', 'skip-kernels', 'skip-training']);
  if (args.positionals.length) throw new UsageError(`bench takes no positional arguments (got ${args.positionals.join(' ')}); give the model with --model PATH.`);
  const quick = args.options.has('quick');
  const kernels = !args.options.has('skip-kernels');
  const training = !args.options.has('skip-training');
  if (!kernels && !training) throw new UsageError('--skip-kernels and --skip-training together leave nothing to measure; drop one.');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const kernelOptions = {
    rows: numberOption(args, 'rows', 512, { integer: true, min: 1 }),
    sizes: listOption(args, 'sizes', quick ? [64, 256] : [64, 256, 512, 1024]),
    ranks: listOption(args, 'ranks', quick ? [8] : [8, 16]),
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
  const gpu = await createNodeGpu();
  try {
    const report: Partial<BenchReport> & { adapter: string; training?: TrainBenchReport } = kernels
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
    if (args.options.has('json')) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const sections = [kernels ? formatReport(report as BenchReport) : `adapter: ${report.adapter}\n`];
      if (report.training) sections.push(formatTrainReport(report.training));
      process.stdout.write(sections.join('\n'));
    }
  } finally {
    gpu.destroy();
  }
  return 0;
}
