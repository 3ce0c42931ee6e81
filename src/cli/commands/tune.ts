import { parseArgs } from '../args.ts';
import { adapterName } from '../../gpu/device.ts';
import { createNodeGpu } from '../../gpu/node.ts';
import { describeTuning, tuneMatmul } from '../../kernels/matmul-tune.ts';
import { tuningStore } from '../gpu.ts';

/**
 * tsugiki tune [--json]: times the matmul kernel choices on this adapter, keeps the fastest for
 * every later command (train, eval, generate, bench) and prints every candidate.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, [], ['json']);
  const json = args.options.has('json');
  const gpu = await createNodeGpu();
  try {
    if (!json) process.stderr.write(`timing the matmul kernels on ${adapterName(gpu.adapter)}…\n`);
    const result = await tuneMatmul(gpu, json ? undefined : (line) => process.stderr.write(`${line}\n`));
    const store = tuningStore();
    store.write(result.adapter, result.tuning);
    if (json) process.stdout.write(`${JSON.stringify({ ...result, file: store.file })}\n`);
    else process.stdout.write(`fastest: ${describeTuning(result.tuning)} (${result.candidates[0].gflops.toFixed(2)} GFLOP/s)\nkept in ${store.file} for ${result.adapter}\n`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
