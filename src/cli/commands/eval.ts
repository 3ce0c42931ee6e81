/**
 * `tsugiki eval MODEL --data DATA [--adapter DIR] [--batch-size N] [--seq-len N]
 * [--input-column C --output-column C] [--json]`: per-row masked loss (the mean of
 * −log p(input_ids[i] | input_ids[<i]) over loss_mask[i] = 1), the mean loss over all counted
 * tokens of the dataset, and, when outputs are labels, accuracy (the label with the highest
 * likelihood among the dataset's distinct labels is the prediction).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { numberOption, parseArgs, stringOption, UsageError } from '../args.ts';
import { parseDataset } from '../../data/parse.ts';
import { encodeExample } from '../../data/prompt.ts';
import { labelDistribution } from '../../data/report.ts';
import { createNodeGpu } from '../../gpu/node.ts';
import { predictLabels, rowLosses } from '../../model/evaluate.ts';
import { openModel, openNetwork } from '../../model/load-cli.ts';

const USAGE = 'usage: tsugiki eval MODEL --data DATA [--adapter DIR] [--batch-size N] [--seq-len N] [--input-column C --output-column C] [--json]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['data', 'adapter', 'batch-size', 'seq-len', 'input-column', 'output-column'], ['json']);
  const [spec] = args.positionals;
  const dataPath = stringOption(args, 'data');
  if (!spec || args.positionals.length > 1 || !dataPath) throw new UsageError(USAGE);
  const batchSize = numberOption(args, 'batch-size', 8, { integer: true, min: 1 });
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const model = await openModel(spec, { onProgress: log });
  const seqLen = numberOption(args, 'seq-len', Math.min(512, model.config.maxPositions), { integer: true, min: 2 });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(dataPath));
  } catch (e) {
    throw new UsageError(`--data ${dataPath}: cannot read the file (${(e as Error).message}).`);
  }
  const data = parseDataset(bytes, basename(dataPath), { inputColumn: stringOption(args, 'input-column'), outputColumn: stringOption(args, 'output-column') });
  if (data.rows.length === 0) throw new UsageError(`${dataPath}: has no rows to evaluate.`);
  for (const w of data.warnings) log(`${dataPath}: ${w.message}`);
  const tok = model.tokenizer;
  const useChatTemplate = tok.chatTemplate !== null;
  const encode = (row: (typeof data.rows)[number]) => encodeExample(tok, row, { seqLen, useChatTemplate });
  const examples = data.rows.map(encode);
  const padId = tok.padId ?? tok.eosId ?? 0;
  const labels = labelDistribution(data.rows);
  const candidates = labels && labels.length > 1 ? data.rows.map((row) => labels.map((l) => encode({ ...row, output: l.label }))) : null;
  const maxSeq = Math.max(...examples.map((e) => e.inputIds.length), ...(candidates ?? []).flat().map((e) => e.inputIds.length));

  const gpu = await createNodeGpu();
  try {
    const net = await openNetwork(gpu, model, stringOption(args, 'adapter'), { maxBatch: batchSize, maxSeq });
    const losses = await rowLosses(net, examples, batchSize, padId);
    const total = losses.reduce((s, r) => s + r.sum, 0);
    const count = losses.reduce((s, r) => s + r.count, 0);
    const meanLoss = count > 0 ? total / count : null;
    let accuracy: number | undefined;
    if (candidates && labels) {
      const predicted = await predictLabels(net, candidates, batchSize, padId);
      accuracy = predicted.filter((j, r) => labels[j].label === data.rows[r].output).length / data.rows.length;
    }
    net.destroy();
    if (args.options.has('json')) {
      const rows = examples.map((e, r) => ({ input_ids: e.inputIds, loss_mask: e.lossMask, loss: losses[r].loss }));
      process.stdout.write(`${JSON.stringify({ mean_loss: meanLoss, ...(accuracy !== undefined ? { accuracy } : {}), rows })}\n`);
    } else {
      data.rows.forEach((row, r) => process.stdout.write(`line ${row.line}: loss ${losses[r].loss?.toFixed(4) ?? '— (no counted tokens)'}\n`));
      process.stdout.write(`mean loss: ${meanLoss?.toFixed(4) ?? '—'} over ${count} tokens of ${data.rows.length} rows\n`);
      if (accuracy !== undefined) process.stdout.write(`accuracy: ${(100 * accuracy).toFixed(1)}% over ${labels!.length} labels\n`);
    }
  } finally {
    gpu.destroy();
  }
  return 0;
}
