/** `tsugiki info MODEL [--json]`: architecture, sizes, parameter count, dtype, GPU bytes, LoRA targets. */
import { parseArgs, UsageError } from '../args.ts';
import { loraTargets, parameterCount } from '../../model/config.ts';
import { weightBytes } from '../../model/gpu-weights.ts';
import { openModel } from '../../model/load-cli.ts';
import { weightPrecision } from '../../model/weights.ts';
import { formatBytes } from '../../gpu/pool.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, [], ['json']);
  const [spec] = args.positionals;
  if (!spec || args.positionals.length > 1) throw new UsageError('usage: tsugiki info MODEL [--json]   (MODEL: a .gguf file, a model folder, or hf:owner/name[@revision])');
  const model = await openModel(spec, { onProgress: (line) => process.stderr.write(`${line}\n`) });
  const c = model.config;
  const precision = weightPrecision(model.weights);
  const info = {
    source: model.source,
    format: model.format,
    architecture: c.arch,
    model_type: c.hfModelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hidden,
    layers: c.layers,
    heads: c.heads,
    kv_heads: c.kvHeads,
    head_dim: c.headDim,
    intermediate_size: c.intermediate,
    max_positions: c.maxPositions,
    norm: c.norm,
    activation: c.activation,
    tied_embeddings: c.tieWordEmbeddings,
    parameters: parameterCount(c),
    dtype: c.torchDtype,
    weight_types: precision.types,
    gpu_weight_bytes: weightBytes(c, model.weights),
    lora_targets: loraTargets(c),
  };
  if (args.options.has('json')) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return 0;
  }
  process.stdout.write(
    `${info.source} (${info.format})\n` +
      `  architecture: ${info.architecture} (${info.model_type})\n` +
      `  layers ${info.layers}, hidden ${info.hidden_size}, heads ${info.heads} (kv ${info.kv_heads}), head dim ${info.head_dim}, MLP ${info.intermediate_size}\n` +
      `  vocabulary ${info.vocab_size}, max positions ${info.max_positions}, ${info.norm}, ${info.activation}${info.tied_embeddings ? ', tied embeddings' : ''}\n` +
      `  parameters: ${info.parameters.toLocaleString('en-US')} (${precision.summary})\n` +
      `  tensors: ${Object.entries(precision.types).map(([t, n]) => `${n} ${t}`).join(', ')}\n` +
      `  GPU memory for the frozen weights: ${formatBytes(info.gpu_weight_bytes)}\n` +
      `  LoRA can target: ${info.lora_targets.join(', ')}\n`,
  );
  return 0;
}
