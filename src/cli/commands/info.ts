/** `tsugiki info MODEL [--json]`: architecture, sizes, parameter count, dtype, GPU bytes, LoRA targets. */
import { parseArgs, UsageError } from '../args.ts';
import { layerWindow, loraTargets, parameterCount, type ModelConfig } from '../../model/config.ts';
import { weightBytes } from '../../model/gpu-weights.ts';
import { openModel } from '../../model/load-cli.ts';
import { weightPrecision } from '../../model/weights.ts';
import { formatBytes } from '../../gpu/pool.ts';

/** What sets a model's attention and norms apart from Llama's (Qwen3, Gemma 3, Mistral), or null. */
function attentionInfo(c: ModelConfig) {
  const windows = Array.from({ length: c.layers }, (_, l) => layerWindow(c, l));
  const sliding = windows.filter((w) => w !== null).length;
  const info = {
    qk_norm: !!c.qkNorm,
    sliding_window: windows.find((w) => w !== null) ?? null,
    sliding_layers: sliding,
    local_rope_theta: c.ropeLocal?.theta ?? null,
    score_scale: c.attnScale ?? 1 / Math.sqrt(c.headDim),
    norm_plus_one: !!c.normPlusOne,
    output_norms: !!c.sandwichNorms,
    embedding_scale: c.embedScale ?? 1,
  };
  const parts = [
    info.qk_norm && 'q/k norms',
    sliding > 0 && `sliding window ${info.sliding_window} on ${sliding} of ${c.layers} layers${info.local_rope_theta ? ` (local RoPE base ${info.local_rope_theta})` : ''}`,
    c.attnScale !== undefined && `scores × ${info.score_scale.toPrecision(4)}`,
    info.norm_plus_one && 'norms × (1 + w)',
    info.output_norms && 'four norms per block',
    c.embedScale !== undefined && `embeddings × ${info.embedding_scale.toPrecision(5)}`,
  ].filter(Boolean);
  return { info, text: parts.length > 0 ? `  ${parts.join('; ')}\n` : '' };
}

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
    attention: attentionInfo(c).info,
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
      attentionInfo(c).text +
      `  parameters: ${info.parameters.toLocaleString('en-US')} (${precision.summary})\n` +
      `  tensors: ${Object.entries(precision.types).map(([t, n]) => `${n} ${t}`).join(', ')}\n` +
      `  GPU memory for the frozen weights: ${formatBytes(info.gpu_weight_bytes)}\n` +
      `  LoRA can target: ${info.lora_targets.join(', ')}\n`,
  );
  return 0;
}
