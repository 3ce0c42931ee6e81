import type { Gpu } from '../gpu/device.ts';
import { createNodeGpu } from '../gpu/node.ts';
import { useStoredTuning } from '../kernels/matmul-tune.ts';
import { NodeTuningStore } from '../io/tuning-node.ts';

/** Where `tsugiki tune` keeps its results: TSUGIKI_TUNING_FILE, else ~/.cache/tsugiki/matmul-tuning.json. */
export function tuningStore(): NodeTuningStore {
  return new NodeTuningStore(process.env.TSUGIKI_TUNING_FILE || undefined);
}

/** The Node GPU with the matmul tuning `tsugiki tune` stored for this adapter, when there is one. */
export async function cliGpu(): Promise<Gpu> {
  const gpu = await createNodeGpu();
  useStoredTuning(gpu, tuningStore());
  return gpu;
}
