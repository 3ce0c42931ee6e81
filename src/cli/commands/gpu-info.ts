import { parseArgs } from '../args.ts';
import { adapterName } from '../../gpu/device.ts';
import { cliGpu, tuningStore } from '../gpu.ts';
import { currentTuning, describeTuning } from '../../kernels/matmul-tune.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, [], ['json']);
  const gpu = await cliGpu();
  const tuned = tuningStore().read(adapterName(gpu.adapter)) !== null;
  const matmul = `${describeTuning(currentTuning(gpu))} (${tuned ? 'tuned by tsugiki tune' : 'defaults; run tsugiki tune to time the choices'})`;
  const a = gpu.adapter;
  if (args.options.has('json')) {
    process.stdout.write(`${JSON.stringify({ name: adapterName(a), ...a, matmul: { ...currentTuning(gpu), tuned } })}\n`);
  } else {
    process.stdout.write(
      `${adapterName(a)}\n  shader-f16: ${a.shaderF16 ? 'yes' : 'no'}\n` +
        `  subgroups: ${a.subgroups ? `yes (size ${a.subgroupMinSize}–${a.subgroupMaxSize})` : 'no'}\n  max buffer: ${a.maxBufferSize} bytes\n` +
        `  max storage binding: ${a.maxStorageBufferBindingSize} bytes\n  workgroup storage: ${a.maxComputeWorkgroupStorageSize} bytes\n  matmul: ${matmul}\n`,
    );
  }
  gpu.destroy();
  return 0;
}
