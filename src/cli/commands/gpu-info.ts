import { parseArgs } from '../args.ts';
import { adapterName } from '../../gpu/device.ts';
import { createNodeGpu } from '../../gpu/node.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, [], ['json']);
  const gpu = await createNodeGpu();
  const a = gpu.adapter;
  if (args.options.has('json')) {
    process.stdout.write(`${JSON.stringify({ name: adapterName(a), ...a })}\n`);
  } else {
    process.stdout.write(
      `${adapterName(a)}\n  shader-f16: ${a.shaderF16 ? 'yes' : 'no'}\n` +
        `  subgroups: ${a.subgroups ? `yes (size ${a.subgroupMinSize}–${a.subgroupMaxSize})` : 'no'}\n  max buffer: ${a.maxBufferSize} bytes\n` +
        `  max storage binding: ${a.maxStorageBufferBindingSize} bytes\n  workgroup storage: ${a.maxComputeWorkgroupStorageSize} bytes\n`,
    );
  }
  gpu.destroy();
  return 0;
}
