/**
 * `tsugiki train MODEL --data DATA --out DIR [options]`: trains a LoRA adapter and writes into DIR
 * the PEFT adapter (adapter_config.json + adapter_model.safetensors; the best adapter by
 * validation loss when there are validation rows, else the last), metrics.jsonl (one line per step
 * and per validation), evaluation.json (that adapter and the base model on the validation rows, as `tsugiki eval --json` reports them) and checkpoint.safetensors (to continue with --resume DIR). Progress goes to
 * stderr; --json prints a summary document on stdout. Ctrl-C stops after the current step and
 * still writes everything.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs, stringOption, UsageError } from '../args.ts';
import { parseDataset } from '../../data/parse.ts';
import { cliGpu } from '../gpu.ts';
import { importPeftAdapter } from '../../lora/peft-import.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, exportPeftAdapter } from '../../lora/peft.ts';
import { trainableParams } from '../../lora/modules.ts';
import { CHECKPOINT_FILE, parseCheckpoint, serializeCheckpoint, type Checkpoint } from '../../train/checkpoint.ts';
import { TRAIN_FLAGS, TRAIN_VALUED, trainOptionsFromArgs } from '../../train/cli-options.ts';
import { reportJson, reportSummary } from '../../eval/report.ts';
import { evalLine, evalText, progressText, stepLine } from '../../train/metrics.ts';
import { loadModelArg } from '../../train/model-node.ts';
import { quantizeBase } from '../../model/quantize-base.ts';
import { weightPrecision } from '../../model/weights.ts';
import type { TrainOptions } from '../../train/options.ts';
import { Trainer } from '../../train/trainer.ts';
import { trainPlan } from '../../train/memory-plan.ts';
import { formatBytes } from '../../gpu/pool.ts';

const USAGE = 'usage: tsugiki train MODEL --data DATA --out DIR [--rank R --alpha A --targets q_proj,v_proj|all-linear --lr LR --steps N ...]';

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new UsageError(`${what} ${path}: no such file.`);
  }
}

/** --init-adapter: start from a PEFT adapter; its rank, alpha, targets and layers replace the options'. */
function initFrom(dir: string, o: TrainOptions, config: Parameters<typeof importPeftAdapter>[2]): { options: TrainOptions; params: Float32Array } {
  const imported = importPeftAdapter(readFile(join(dir, ADAPTER_CONFIG_FILE), '--init-adapter'), readFile(join(dir, ADAPTER_WEIGHTS_FILE), '--init-adapter'), config);
  const { rank, alpha, targets, layers, rslora } = imported.cfg;
  return { options: { ...o, adapter: { ...o.adapter, rank, alpha, targets, layers, rslora } }, params: imported.params };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, TRAIN_VALUED, TRAIN_FLAGS);
  const [modelArg, ...extra] = args.positionals;
  const dataPath = stringOption(args, 'data');
  const outDir = stringOption(args, 'out');
  if (!modelArg || extra.length > 0) throw new UsageError(`give one MODEL (a .gguf file, a model folder or hf:owner/name).\n${USAGE}`);
  if (!dataPath) throw new UsageError(`--data is required: a CSV/TSV/JSONL/JSON file of examples.\n${USAGE}`);
  if (!outDir) throw new UsageError(`--out is required: the folder to write the adapter into.\n${USAGE}`);
  const json = args.options.has('json');
  const say = (s: string) => process.stderr.write(`${s}\n`);

  const loaded = await loadModelArg(modelArg, (e) => {
    if (e.status === 'done') say(`downloaded ${e.file} (${e.loaded} bytes)`);
  });
  const { baseModel, revision } = loaded;
  let model = loaded.model;
  if (args.options.has('base-4bit')) {
    // QLoRA: the frozen weights quantized at load (src/model/quantize-base.ts); the adapter trains in f32.
    const q = quantizeBase(model);
    model = q.model;
    const types = Object.entries(q.report.types).map(([t, n]) => `${n} ${t}`).join(', ');
    say(`4-bit base: ${formatBytes(q.report.bytesBefore)} of weights → ${formatBytes(q.report.bytesAfter)} (${types})`);
  }
  const dataset = parseDataset(readFile(dataPath, '--data'), basename(dataPath), {
    inputColumn: stringOption(args, 'input-column'),
    outputColumn: stringOption(args, 'output-column'),
  });
  for (const w of dataset.warnings) say(`warning: ${w.message}`);

  let options = trainOptionsFromArgs(args, model.config);
  let params: Float32Array | undefined;
  let checkpoint: Checkpoint | undefined;
  const resumeDir = stringOption(args, 'resume');
  if (resumeDir) {
    checkpoint = parseCheckpoint(readFile(join(resumeDir, CHECKPOINT_FILE), '--resume'), join(resumeDir, CHECKPOINT_FILE));
    options = checkpoint.options;
  } else if (stringOption(args, 'init-adapter')) {
    ({ options, params } = initFrom(stringOption(args, 'init-adapter')!, options, model.config));
  }
  options = { ...options, adapter: { ...options.adapter, baseModel, ...(revision ? { revision } : {}) } };

  const gpu = await cliGpu();
  const trainer = await Trainer.create(gpu, model, dataset.rows, options, { params, checkpoint });
  const d = trainer.data;
  const total = trainer.state.totalSteps;
  say(`${model.source}: ${trainableParams(trainer.layout.entries, options.adapter.rank).toLocaleString('en-US')} trainable LoRA parameters; ` +
    `${d.train.length} training rows, ${d.val.length} validation rows${d.truncated ? `, ${d.truncated} cut to ${options.seqLen} tokens` : ''}; ${total} steps` +
    (d.labels ? `; labels ${d.labels.join(', ')}` : ''));

  const plan = trainPlan({ config: model.config, weights: model.weights, maxBindingBytes: gpu.adapter.maxStorageBufferBindingSize }, trainer.options);
  say(`GPU memory: planned peak ${formatBytes(plan.peakBytes)}` +
    (plan.recompute ? `; activations recomputed in backward (${plan.recompute === 1 ? 'every block input kept' : `one block input in ${plan.recompute} kept`})` : ''));

  mkdirSync(outDir, { recursive: true });
  const metricsPath = join(outDir, 'metrics.jsonl');
  if (!checkpoint || !existsSync(metricsPath)) writeFileSync(metricsPath, '');
  const abort = new AbortController();
  const onSigint = () => {
    say('stopping after this step…');
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  const result = await trainer.run({
    signal: abort.signal,
    onStep: (e) => {
      appendFileSync(metricsPath, `${stepLine(e)}\n`);
      if (!json || process.stderr.isTTY) say(progressText(e, total));
    },
    onEval: (e) => {
      appendFileSync(metricsPath, `${evalLine(e)}\n`);
      say(evalText(e));
    },
  });
  process.off('SIGINT', onSigint);
  if (result.message) say(result.message);

  const adapter = await trainer.adapterParams(result.bestStep !== null ? 'best' : 'last');
  for (const [name, bytes] of Object.entries(exportPeftAdapter(trainer.layout, adapter, options.adapter, model.config.arch))) {
    writeFileSync(join(outDir, name), bytes);
  }
  writeFileSync(join(outDir, CHECKPOINT_FILE), serializeCheckpoint(await trainer.checkpoint()));
  // the written adapter and the base model on the validation rows, as `tsugiki eval --json` reports them
  const final = result.reason === 'non-finite' ? null : await trainer.finalEvaluation();
  const evaluation = final
    ? { step: final.step, evaluation: reportJson(final.tuned), base_evaluation: reportJson(final.base) }
    : null;
  if (final && evaluation) {
    writeFileSync(join(outDir, 'evaluation.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
    say(`validation rows, base model: ${reportSummary(final.base)}`);
    say(`validation rows, this adapter: ${reportSummary(final.tuned)}`);
  }
  trainer.destroy();
  gpu.destroy();
  say(`wrote ${join(outDir, ADAPTER_WEIGHTS_FILE)} (${result.bestStep !== null ? `best validation loss, step ${result.bestStep}` : `step ${result.steps}`})`);
  if (json) {
    process.stdout.write(`${JSON.stringify({
      out: outDir, base_model: baseModel, reason: result.reason, message: result.message, steps: result.steps, total_steps: total,
      last_loss: result.lastLoss, best_val_loss: result.bestValLoss, best_step: result.bestStep,
      val_accuracy: result.lastEval?.val_accuracy ?? null, final_evaluation: evaluation, elapsed_s: result.elapsedS,
      train_rows: d.train.length, val_rows: d.val.length, trainable_params: trainableParams(trainer.layout.entries, options.adapter.rank),
      base_precision: `${weightPrecision(model.weights).summary}${model.baseQuant ? ' (4-bit base, quantized at load)' : ''}`,
    })}\n`);
  }
  return result.reason === 'non-finite' ? 1 : 0;
}
