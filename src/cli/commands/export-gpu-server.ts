/**
 * `tsugiki export-gpu-server MODEL --data DATA --adapter DIR --out DIR [train options] [--json]`:
 * the folder that continues the run on a GPU server with Hugging Face TRL + PEFT (train.py,
 * requirements.txt, accelerate and axolotl configs, the rows rendered in the run's prompt format,
 * the adapter so far; src/train/gpu-server.ts). The run's settings come from the adapter folder's
 * checkpoint.safetensors when `tsugiki train` left one there, else from the train options given.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs, stringOption, UsageError } from '../args.ts';
import { parseDataset } from '../../data/parse.ts';
import { openAdapter } from '../../model/load-cli.ts';
import { CHECKPOINT_FILE, parseCheckpoint } from '../../train/checkpoint.ts';
import { TRAIN_FLAGS, TRAIN_VALUED, trainOptionsFromArgs } from '../../train/cli-options.ts';
import { gpuServerFiles } from '../../train/gpu-server.ts';
import { loadModelArg } from '../../train/model-node.ts';

const USAGE = 'usage: tsugiki export-gpu-server MODEL --data DATA [--adapter DIR] --out DIR [train options] [--json]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, [...TRAIN_VALUED.filter((n) => n !== 'resume'), 'adapter'], TRAIN_FLAGS);
  const [spec, ...extra] = args.positionals;
  const dataPath = stringOption(args, 'data');
  const out = stringOption(args, 'out');
  if (!spec || extra.length > 0) throw new UsageError(`give one MODEL (a .gguf file, a model folder or hf:owner/name).\n${USAGE}`);
  if (!dataPath) throw new UsageError(`--data is required: the rows the run trained on.\n${USAGE}`);
  if (!out) throw new UsageError(`--out is required: the folder to write.\n${USAGE}`);
  const { model, files } = await loadModelArg(spec);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(dataPath));
  } catch {
    throw new UsageError(`--data ${dataPath}: no such file.`);
  }
  const dataset = parseDataset(bytes, basename(dataPath), { inputColumn: stringOption(args, 'input-column'), outputColumn: stringOption(args, 'output-column') });
  const adapterDir = stringOption(args, 'adapter');
  const adapter = adapterDir ? openAdapter(adapterDir, model.config) : null;
  const checkpointPath = adapterDir ? join(adapterDir, CHECKPOINT_FILE) : null;
  let options = checkpointPath && existsSync(checkpointPath)
    ? parseCheckpoint(new Uint8Array(readFileSync(checkpointPath)), checkpointPath).options
    : trainOptionsFromArgs(args, model.config);
  if (adapter && !(checkpointPath && existsSync(checkpointPath))) {
    const { rank, alpha, dropout, targets, layers, rslora } = adapter.cfg;
    options = { ...options, adapter: { ...options.adapter, rank, alpha, dropout, targets, layers, rslora } };
  }
  const hubId = spec.startsWith('hf:') ? spec.slice(3).replace(/@.*$/, '') : null;
  const folder = gpuServerFiles({
    model, files, hubId, rows: dataset.rows, options, useChatTemplate: model.tokenizer.chatTemplate !== null,
    adapter: adapter ? { layout: adapter.layout, params: adapter.params, cfg: adapter.cfg } : null,
  });
  for (const [name, data] of Object.entries(folder)) {
    mkdirSync(dirname(join(out, name)), { recursive: true });
    writeFileSync(join(out, name), data);
  }
  if (args.options.has('json')) process.stdout.write(`${JSON.stringify({ out, files: Object.keys(folder).sort() })}\n`);
  else process.stderr.write(`wrote ${out} (${Object.keys(folder).length} files); on the GPU server: pip install -r requirements.txt && python train.py\n`);
  return 0;
}
