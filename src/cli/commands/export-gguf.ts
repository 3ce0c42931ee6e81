/**
 * `tsugiki export-gguf MODEL --adapter DIR --out PATH [--dtype f32|f16] [--merged f16|q8_0|q4_k_m|f32] [--json]`:
 *
 * - without --merged: the adapter as a llama.cpp GGUF LoRA file at PATH (for `llama-cli -m BASE.gguf
 *   --lora PATH`, or ollama's ADAPTER), F32 or F16;
 * - with --merged TYPE: the model with the adapter folded in as one GGUF file in the folder PATH,
 *   next to an ollama Modelfile (the training prompt format and stop tokens); prints the
 *   `ollama create` line. The prompt format is the chat template when the model has one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, stringOption, UsageError } from '../args.ts';
import { openAdapter } from '../../model/load-cli.ts';
import { loadModelArg } from '../../train/model-node.ts';
import { adapterGgufFile, mergedGgufFolder } from '../../train/gguf-export.ts';
import { GGUF_FILE_TYPES, type GgufFileType } from '../../train/gguf-files.ts';

const USAGE = 'usage: tsugiki export-gguf MODEL --adapter DIR --out PATH [--dtype f32|f16] [--merged f16|q8_0|q4_k_m|f32] [--json]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['adapter', 'out', 'dtype', 'merged'], ['json']);
  const [spec, ...extra] = args.positionals;
  const adapterDir = stringOption(args, 'adapter');
  const out = stringOption(args, 'out');
  if (!spec || extra.length > 0) throw new UsageError(`give one MODEL (a .gguf file, a model folder or hf:owner/name).\n${USAGE}`);
  if (!out) throw new UsageError(`--out is required: the .gguf file to write (or, with --merged, the folder).\n${USAGE}`);
  const mergedArg = stringOption(args, 'merged');
  const fileType = mergedArg === undefined ? null : GGUF_FILE_TYPES.find((t) => t.toLowerCase() === mergedArg.toLowerCase());
  if (fileType === undefined) throw new UsageError(`--merged ${mergedArg}: choose one of ${GGUF_FILE_TYPES.map((t) => t.toLowerCase()).join(', ')}.`);
  if (!adapterDir && fileType === null) throw new UsageError(`--adapter DIR is required (or --merged TYPE to convert the base model alone).\n${USAGE}`);
  const dtype = (stringOption(args, 'dtype') ?? 'f32').toUpperCase();
  if (dtype !== 'F32' && dtype !== 'F16') throw new UsageError(`--dtype ${dtype.toLowerCase()}: choose f32 or f16.`);
  const say = (s: string) => process.stderr.write(`${s}\n`);

  const { model, files } = await loadModelArg(spec, (e) => {
    if (e.status === 'done') say(`downloaded ${e.file} (${e.loaded} bytes)`);
  });
  const adapter = adapterDir ? openAdapter(adapterDir, model.config) : null;
  const modelName = spec.replace(/^hf:/, '').replace(/@.*$/, '').replace(/\/+$/, '');
  if (fileType === null) {
    const { bytes } = adapterGgufFile(model, adapter!, dtype, modelName);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
    if (args.options.has('json')) process.stdout.write(`${JSON.stringify({ out, kind: 'adapter', dtype, bytes: bytes.length, modules: adapter!.layout.entries.length })}\n`);
    else say(`wrote ${out} (${bytes.length.toLocaleString('en-US')} bytes, ${adapter!.layout.entries.length} modules): llama-cli -m BASE.gguf --lora ${out}`);
    return 0;
  }
  say(`writing ${modelName}${adapter ? ` with ${adapterDir} merged` : ''} as ${fileType} GGUF…`);
  const folder = mergedGgufFolder(model, files, adapter, fileType as GgufFileType, { modelName, useChatTemplate: model.tokenizer.chatTemplate !== null });
  mkdirSync(out, { recursive: true });
  const sizes: Record<string, number> = {};
  for (const [name, bytes] of Object.entries(folder.files)) {
    writeFileSync(join(out, name), bytes);
    sizes[name] = bytes.length;
  }
  if (args.options.has('json')) process.stdout.write(`${JSON.stringify({ out, kind: 'merged', file_type: fileType, gguf: folder.ggufName, files: sizes, ollama: folder.createLine })}\n`);
  else say(`wrote ${join(out, folder.ggufName)} and ${join(out, 'Modelfile')}; register it with ollama:\n  cd ${out} && ${folder.createLine}`);
  return 0;
}
