import { numberOption, parseArgs, stringOption, UsageError, type ParsedArgs } from '../args.ts';
import { createNodeGpu } from '../../gpu/node.ts';
import { formatReport, runBench } from '../../../bench/run.ts';
import { DEFAULT_TIMING, QUICK_TIMING } from '../../../bench/timing.ts';

function listOption(a: ParsedArgs, name: string, fallback: number[]): number[] {
  const raw = stringOption(a, name);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new UsageError(`--${name} ${raw}: expected whole numbers ≥ 1 separated by commas.`);
  return values;
}

/**
 * `tsugiki bench [--quick] [--rows M] [--sizes 64,256] [--ranks 8,16] [--json]`: tsugiki's matmul
 * and LoRA layer against tfjs-backend-webgpu on the same device, and against the FMA peak.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['rows', 'sizes', 'ranks'], ['json', 'quick']);
  if (args.positionals.length) throw new UsageError(`bench takes no positional arguments (got ${args.positionals.join(' ')}).`);
  const quick = args.options.has('quick');
  const options = {
    rows: numberOption(args, 'rows', 512, { integer: true, min: 1 }),
    sizes: listOption(args, 'sizes', quick ? [64, 256] : [64, 256, 512, 1024]),
    ranks: listOption(args, 'ranks', quick ? [8] : [8, 16]),
    timing: quick ? QUICK_TIMING : DEFAULT_TIMING,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const gpu = await createNodeGpu();
  try {
    const report = await runBench(gpu, options);
    process.stdout.write(args.options.has('json') ? `${JSON.stringify(report)}\n` : formatReport(report));
  } finally {
    gpu.destroy();
  }
  return 0;
}
