/**
 * `tsugiki eval MODEL --data DATA [--adapter DIR] [--val-split F --seed S] [--batch-size N]
 * [--seq-len N] [--max-new-tokens N] [--input-column C --output-column C] [--json]`
 *
 * Per-row masked loss (the mean of −log p(input_ids[i] | input_ids[<i]) over loss_mask[i] = 1) and
 * the mean loss over all counted tokens, then the evaluation of src/eval: for label tasks the
 * likeliest label of the label set (src/eval/rule.ts) with accuracy, macro-F1, the confusion
 * matrix, per-class scores and the majority baseline; for free-text tasks a greedy answer per row
 * with exact match, token F1 and ROUGE-L. With --adapter the base model is evaluated beside it
 * (`base_evaluation`). --val-split F --seed S evaluates only the rows `tsugiki train` held out
 * with the same split (the held-out rows are the same everywhere).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { numberOption, parseArgs, stringOption, UsageError } from '../args.ts';
import { parseDataset } from '../../data/parse.ts';
import { encodeExample } from '../../data/prompt.ts';
import { splitTrainVal } from '../../data/split.ts';
import { cliGpu } from '../gpu.ts';
import { writeAnswer } from '../../eval/answers.ts';
import { compareLabelPredictions } from '../../eval/held-out.ts';
import { labelReport, reportJson, reportSummary, textReport, type EvalReport } from '../../eval/report.ts';
import { predictLabels, rowLosses } from '../../eval/score.ts';
import { openModel, openNetwork } from '../../model/load-cli.ts';
import { padIdOf, scoredLabels } from '../../train/data.ts';

const USAGE = 'usage: tsugiki eval MODEL --data DATA [--adapter DIR] [--val-split F --seed S] [--batch-size N] [--seq-len N] [--max-new-tokens N] [--input-column C --output-column C] [--json]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['data', 'adapter', 'batch-size', 'seq-len', 'input-column', 'output-column', 'val-split', 'seed', 'max-new-tokens'], ['json']);
  const [spec] = args.positionals;
  const dataPath = stringOption(args, 'data');
  if (!spec || args.positionals.length > 1 || !dataPath) throw new UsageError(USAGE);
  const batchSize = numberOption(args, 'batch-size', 8, { integer: true, min: 1 });
  const maxNewTokens = numberOption(args, 'max-new-tokens', 64, { integer: true, min: 1 });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const adapterDir = stringOption(args, 'adapter');

  const model = await openModel(spec, { onProgress: log });
  const seqLen = numberOption(args, 'seq-len', Math.min(512, model.config.maxPositions), { integer: true, min: 2 });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(dataPath));
  } catch (e) {
    throw new UsageError(`--data ${dataPath}: cannot read the file (${(e as Error).message}).`);
  }
  const data = parseDataset(bytes, basename(dataPath), { inputColumn: stringOption(args, 'input-column'), outputColumn: stringOption(args, 'output-column') });
  for (const w of data.warnings) log(`${dataPath}: ${w.message}`);
  let rows = data.rows;
  if (args.options.has('val-split')) {
    const split = numberOption(args, 'val-split', 0.1, { min: 0 });
    if (!(split > 0 && split < 1)) throw new UsageError(`--val-split ${split}: give the fraction tsugiki train held out, in (0, 1) (its default is 0.1).`);
    rows = splitTrainVal(rows.length, split, numberOption(args, 'seed', 42, { integer: true })).val.map((i) => data.rows[i]);
  }
  if (rows.length === 0) throw new UsageError(`${dataPath}: has no rows to evaluate${args.options.has('val-split') ? ' in the held-out split; use a larger --val-split' : ''}.`);
  const tok = model.tokenizer;
  const useChatTemplate = tok.chatTemplate !== null;
  const examples = rows.map((row) => encodeExample(tok, row, { seqLen, useChatTemplate }));
  const padId = padIdOf(tok);
  // the label set comes from the whole file, so a split that misses a label still scores it
  const labels = scoredLabels(data.rows);
  const maxSeq = Math.max(seqLen, Math.min(model.config.maxPositions, Math.max(...examples.map((e) => e.promptLength)) + maxNewTokens));

  const gpu = await cliGpu();
  try {
    const net = await openNetwork(gpu, model, adapterDir, { maxBatch: batchSize, maxSeq });
    const losses = await rowLosses(net, examples, batchSize, padId);
    const total = losses.reduce((s, r) => s + r.sum, 0);
    const count = losses.reduce((s, r) => s + r.count, 0);
    const meanLoss = count > 0 ? total / count : null;
    let evaluation: EvalReport;
    let base: EvalReport | null = null;
    let answers: { predicted?: string; base_predicted?: string; answer?: string }[];
    if (labels) {
      log(`scoring ${rows.length} rows × ${labels.length} labels${adapterDir ? ', base and tuned' : ''}`);
      const o = { seqLen, useChatTemplate, batchSize, padId };
      if (adapterDir) {
        const c = await compareLabelPredictions(net, tok, rows, labels, o);
        evaluation = c.tunedReport;
        base = c.baseReport;
        answers = rows.map((_, r) => ({ predicted: c.tuned[r], base_predicted: c.base[r] }));
      } else {
        const { predicted } = await predictLabels(net, tok, rows, labels, o);
        evaluation = labelReport(labels, rows.map((r) => r.output), predicted);
        answers = predicted.map((p) => ({ predicted: p }));
      }
    } else {
      log(`writing ${rows.length} answers (greedy, up to ${maxNewTokens} tokens)`);
      const sampling = { maxNewTokens, temperature: 0, seed: 0 };
      const written: string[] = [];
      for (const row of rows) written.push(await writeAnswer(net, model, row, useChatTemplate, sampling, maxSeq));
      evaluation = textReport(rows.map((r) => r.output), written);
      answers = written.map((answer) => ({ answer }));
    }
    net.destroy();
    if (args.options.has('json')) {
      const out = examples.map((e, r) => ({ line: rows[r].line, input_ids: e.inputIds, loss_mask: e.lossMask, loss: losses[r].loss, ...answers[r] }));
      const accuracy = evaluation.kind === 'labels' ? { accuracy: evaluation.accuracy } : {};
      process.stdout.write(`${JSON.stringify({ mean_loss: meanLoss, ...accuracy, evaluation: reportJson(evaluation), ...(base ? { base_evaluation: reportJson(base) } : {}), rows: out })}\n`);
    } else {
      rows.forEach((row, r) => process.stdout.write(`line ${row.line}: loss ${losses[r].loss?.toFixed(4) ?? '— (no counted tokens)'}${answers[r].predicted !== undefined ? `  predicted ${answers[r].predicted}` : ''}\n`));
      process.stdout.write(`mean loss: ${meanLoss?.toFixed(4) ?? '—'} over ${count} tokens of ${rows.length} rows\n`);
      if (base) process.stdout.write(`base model: ${reportSummary(base)}\n`);
      process.stdout.write(`${adapterDir ? 'tuned model' : 'model'}: ${reportSummary(evaluation)}\n`);
      if (evaluation.kind === 'labels') {
        process.stdout.write(`confusion matrix (rows: true label, columns: predicted) over ${evaluation.labels.join(', ')}:\n`);
        evaluation.confusion.forEach((row, t) => process.stdout.write(`  ${evaluation.labels[t]}: ${row.join(' ')}\n`));
      }
    }
  } finally {
    gpu.destroy();
  }
  return 0;
}
