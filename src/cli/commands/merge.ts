/**
 * `tsugiki merge MODEL --adapter DIR --out DIR [--json]`: writes the model with the PEFT adapter
 * merged into its weights (W + s·B·A, float64 accumulation, one rounding to the weight's dtype):
 * model.safetensors + config.json + tokenizer files. A GGUF model is written in Hugging Face names
 * and layout with a config.json derived from its GGUF config (src/train/merge-files.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, stringOption, UsageError } from '../args.ts';
import { loraScale } from '../../lora/config.ts';
import { openAdapter } from '../../model/load-cli.ts';
import { mergedModelFiles } from '../../train/merge-files.ts';
import { loadModelArg } from '../../train/model-node.ts';

const USAGE = 'usage: tsugiki merge MODEL --adapter DIR --out DIR [--json]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['adapter', 'out'], ['json']);
  const [spec, ...extra] = args.positionals;
  const adapterDir = stringOption(args, 'adapter');
  const outDir = stringOption(args, 'out');
  if (!spec || extra.length > 0 || !adapterDir || !outDir) throw new UsageError(USAGE);
  const { model, files } = await loadModelArg(spec, (e) => {
    if (e.status === 'done') process.stderr.write(`downloaded ${e.file} (${e.loaded} bytes)\n`);
  });
  const adapter = openAdapter(adapterDir, model.config);
  const out = mergedModelFiles(model, files, { layout: adapter.layout, params: adapter.params, scale: loraScale(adapter.cfg) });
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(out)) writeFileSync(join(outDir, name), bytes);
  const summary = { out: outDir, files: Object.keys(out).sort(), merged_modules: adapter.layout.entries.length, scale: loraScale(adapter.cfg) };
  if (args.options.has('json')) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stderr.write(`merged ${summary.merged_modules} modules (scale ${summary.scale}) into ${join(outDir, 'model.safetensors')}\n`);
  return 0;
}
