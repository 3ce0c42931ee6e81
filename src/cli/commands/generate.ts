/**
 * `tsugiki generate MODEL [--adapter DIR] [--prompt TEXT] [--max-new-tokens N] [--temperature T]
 * [--top-p P] [--top-k K] [--seed S] [--json]`: the prompt is tokenized with the model's BOS; text
 * streams to stdout (greedy at temperature 0, the default).
 */
import { numberOption, parseArgs, stringOption, UsageError } from '../args.ts';
import { cliGpu } from '../gpu.ts';
import { generate } from '../../model/generate.ts';
import { openModel, openNetwork } from '../../model/load-cli.ts';

const USAGE = 'usage: tsugiki generate MODEL [--adapter DIR] [--prompt TEXT] [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S] [--json]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['adapter', 'prompt', 'max-new-tokens', 'temperature', 'top-p', 'top-k', 'seed'], ['json']);
  const [spec] = args.positionals;
  if (!spec || args.positionals.length > 1) throw new UsageError(USAGE);
  const json = args.options.has('json');
  const prompt = stringOption(args, 'prompt') ?? '';
  const maxNewTokens = numberOption(args, 'max-new-tokens', 64, { integer: true, min: 0 });
  const temperature = numberOption(args, 'temperature', 0, { min: 0 });
  const topP = numberOption(args, 'top-p', 1, { min: 0 });
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`--top-p ${topP}: expected a number in (0, 1].`);
  const topK = numberOption(args, 'top-k', 0, { integer: true, min: 0 });
  const seed = numberOption(args, 'seed', 0, { integer: true, min: 0 });

  const model = await openModel(spec, { onProgress: (line) => process.stderr.write(`${line}\n`) });
  const tok = model.tokenizer;
  const promptIds = tok.encode(prompt, { addBos: true });
  if (promptIds.length === 0) throw new UsageError('the prompt is empty and this model has no BOS token to start from; give --prompt TEXT.');
  const gpu = await cliGpu();
  try {
    const net = await openNetwork(gpu, model, stringOption(args, 'adapter'), { maxBatch: 1, maxSeq: promptIds.length + maxNewTokens });
    let shown = '';
    const ids: number[] = [];
    if (!json) process.stdout.write(prompt);
    const outputIds = await generate(net, promptIds, {
      maxNewTokens, temperature, topP, topK, seed,
      onToken: (id) => {
        ids.push(id);
        if (json) return;
        // Decode the whole continuation each time: SentencePiece and byte-level pieces only
        // become text in context.
        const text = tok.decode(ids, { skipSpecial: true });
        if (text.startsWith(shown)) process.stdout.write(text.slice(shown.length));
        shown = text;
      },
    });
    const text = tok.decode(outputIds, { skipSpecial: true });
    if (json) process.stdout.write(`${JSON.stringify({ prompt, prompt_ids: promptIds, output_ids: outputIds, text })}\n`);
    else process.stdout.write('\n');
    net.destroy();
  } finally {
    gpu.destroy();
  }
  return 0;
}
