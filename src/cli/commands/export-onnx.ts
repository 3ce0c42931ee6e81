/**
 * `tsugiki export-onnx MODEL [--adapter DIR] --out DIR [--dtype f32|f16] [--json]`: writes the
 * model (a .gguf file, a Hugging Face folder or hf:owner/name[@revision]), with the adapter
 * merged, as the folder transformers.js and onnxruntime-web load (onnx/model.onnx or
 * onnx/model_fp16.onnx, config.json, generation_config.json, tokenizer files).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { importPeftAdapter } from '../../lora/peft-import.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../../lora/peft.ts';
import { loadModelFiles } from '../../model/load-source.ts';
import { exportOnnx, type ExportDtype } from '../../onnx/export.ts';
import { loadModelArg } from '../../train/model-node.ts';
import { parseArgs, stringOption, UsageError } from '../args.ts';

const USAGE = 'usage: tsugiki export-onnx MODEL [--adapter DIR] --out DIR [--dtype f32|f16] [--json]';

/** Files of an HF folder the export reads: configs, tokenizer files and safetensors weights. */
const WANTED = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|model\.safetensors\.index\.json|.*\.safetensors)$/;

/** The model's files by name: a .gguf file alone, or the wanted files of a folder. */
function readModelFiles(path: string): Record<string, Uint8Array> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new Error(`${path}: no such file or folder; give a .gguf file or a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)`);
  }
  if (!isDir) {
    if (!path.toLowerCase().endsWith('.gguf')) throw new Error(`${path}: is a file but not a .gguf; give a .gguf file or a Hugging Face model folder`);
    return { [basename(path)]: new Uint8Array(readFileSync(path)) };
  }
  const names = readdirSync(path);
  const wanted = names.filter((n) => WANTED.test(n));
  const ggufs = names.filter((n) => n.toLowerCase().endsWith('.gguf'));
  if (wanted.length === 0 && ggufs.length === 1) return readModelFiles(join(path, ggufs[0]));
  return Object.fromEntries(wanted.map((n) => [n, new Uint8Array(readFileSync(join(path, n)))]));
}

function readAdapterFile(dir: string, name: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(join(dir, name)));
  } catch {
    throw new Error(`${dir}: has no ${name}; --adapter takes a PEFT adapter folder (${ADAPTER_CONFIG_FILE} + ${ADAPTER_WEIGHTS_FILE})`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['adapter', 'out', 'dtype'], ['json']);
  if (args.positionals.length !== 1) throw new UsageError(`export-onnx takes one MODEL (got ${args.positionals.length}).\n${USAGE}`);
  const modelPath = args.positionals[0];
  const out = stringOption(args, 'out');
  if (!out) throw new UsageError(`--out DIR is required.\n${USAGE}`);
  const dtype = stringOption(args, 'dtype') ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`--dtype ${dtype}: choose f32 or f16.`);

  // hf: ids download through the Hub cache; local paths are read here so a GGUF file's bytes come along.
  const { model, files } = modelPath.startsWith('hf:')
    ? await loadModelArg(modelPath)
    : (() => {
        const f = readModelFiles(modelPath);
        return { model: loadModelFiles(f, modelPath), files: f };
      })();
  const adapterDir = stringOption(args, 'adapter');
  const adapter = adapterDir
    ? importPeftAdapter(readAdapterFile(adapterDir, ADAPTER_CONFIG_FILE), readAdapterFile(adapterDir, ADAPTER_WEIGHTS_FILE), model.config)
    : null;
  process.stderr.write(`exporting ${modelPath}${adapterDir ? ` with ${adapterDir} merged` : ''} to ONNX (${dtype})…\n`);
  const written = exportOnnx(model, adapter, { dtype: dtype as ExportDtype, files });

  const sizes: Record<string, number> = {};
  for (const [name, bytes] of Object.entries(written)) {
    const path = join(out, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    sizes[name] = bytes.length;
  }
  if (args.options.has('json')) {
    process.stdout.write(`${JSON.stringify({ out, dtype, adapter: adapterDir ?? null, files: sizes })}\n`);
  } else {
    const lines = Object.entries(sizes).map(([n, s]) => `  ${n.padEnd(28)} ${s.toLocaleString('en-US')} bytes`);
    process.stdout.write(`wrote ${out}\n${lines.join('\n')}\n`);
  }
  return 0;
}
