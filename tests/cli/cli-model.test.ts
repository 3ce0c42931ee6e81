import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { run as info } from '../../src/cli/commands/info.ts';
import { run as generateCmd } from '../../src/cli/commands/generate.ts';
import { run as evalCmd } from '../../src/cli/commands/eval.ts';
import { run as trainCmd } from '../../src/cli/commands/train.ts';
import { parseGguf } from '../../src/io/gguf.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { ReferenceModel } from '../reference/model.ts';
import { writeTinyModel } from '../helpers/tiny-models.ts';
import { capture, referenceRowLoss } from './cli-helpers.ts';
import { splitTrainVal } from '../../src/data/split.ts';
import { rougeL, tokenF1 } from '../../src/eval/metrics.ts';

const STORIES = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url).pathname;

describe('tsugiki info / generate / eval', () => {
  it('info --json describes stories260K', async () => {
    const { code, out } = await capture(info, [STORIES, '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j).toMatchObject({ architecture: 'llama', layers: 5, hidden_size: 64, heads: 8, kv_heads: 4, vocab_size: 512, parameters: 292800, dtype: 'float32' });
    expect(j.lora_targets).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(j.gpu_weight_bytes).toBe(292800 * 4);
  });

  it('info --json on a Q4_K_M file counts its tensor types and the quantized bytes it keeps on the GPU', async () => {
    const file = new URL('../../../shared/data/models/quantized/k256-random-Q4_K_M.gguf', import.meta.url).pathname;
    const { code, out } = await capture(info, [file, '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.weight_types).toEqual({ Q4_K: 13, Q6_K: 3, F32: 5 });
    // The blocks as stored (each buffer rounded up to 16 bytes): Q4_K is 144 bytes per 256 weights, Q6_K 210.
    const g = parseGguf(new Uint8Array(readFileSync(file)));
    expect(j.gpu_weight_bytes).toBe(g.tensors.reduce((n, t) => n + Math.ceil(t.byteLength / 16) * 16, 0));
  });

  it('generate --json from BOS writes the reference\'s greedy story', async () => {
    const { code, out } = await capture(generateCmd, [STORIES, '--max-new-tokens', '24', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    const model = loadModelFromPath(STORIES);
    expect(j.prompt_ids).toEqual([model.tokenizer.bosId]);
    expect(j.output_ids).toEqual(new ReferenceModel(model.config, model.weights).greedy([model.tokenizer.bosId!], 24, { stopIds: [model.tokenizer.eosId!] }));
    expect(j.text.startsWith('Once upon a time, there was a little girl named Lily')).toBe(true);
  });

  it('generate streams text and refuses a bad option', async () => {
    const { out } = await capture(generateCmd, [STORIES, '--prompt', 'Once upon a time', '--max-new-tokens', '8']);
    expect(out.startsWith('Once upon a time')).toBe(true);
    expect(out.length).toBeGreaterThan('Once upon a time'.length + 8);
    await expect(generateCmd([STORIES, '--top-p', '2'])).rejects.toThrow(/top-p/);
  });

  it('eval --json row losses of a tiny HF model equal the reference; accuracy from label likelihoods', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-eval-'));
    const modelDir = writeTinyModel(join(dir, 'model'), 'llama');
    const data = join(dir, 'data.csv');
    writeFileSync(data, 'text,label\ngreat fun,pos\nawful day,neg\nnice one,pos\nbad idea,neg\nso good,pos\n');
    const { code, out } = await capture(evalCmd, [modelDir, '--data', data, '--batch-size', '2', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    const model = loadModelFromPath(modelDir);
    const ref = new ReferenceModel(model.config, model.weights);
    expect(j.rows.length).toBe(5);
    let sum = 0;
    let count = 0;
    for (const row of j.rows) {
      expect(row.loss_mask[0]).toBe(0);
      const want = referenceRowLoss(ref, row.input_ids, row.loss_mask);
      expect(Math.abs(row.loss - want.mean)).toBeLessThan(1e-4 * Math.max(1, want.mean)); // f32 GPU vs float64
      sum += want.sum;
      count += row.loss_mask.filter((m: number) => m === 1).length;
    }
    expect(Math.abs(j.mean_loss - sum / count)).toBeLessThan(1e-4 * (sum / count));
    // Accuracy: the reference picks the label with the lowest summed loss for each row.
    const rows = [['great fun', 'pos'], ['awful day', 'neg'], ['nice one', 'pos'], ['bad idea', 'neg'], ['so good', 'pos']];
    const encode = (input: string, output: string) => {
      const prompt = model.tokenizer.encode(`${input}\n### Answer:\n`, { addBos: model.tokenizer.addsBos });
      const ids = [...prompt, ...model.tokenizer.encode(output, { addBos: false }), model.tokenizer.eosId!];
      return { ids, mask: ids.map((_, i) => (i >= prompt.length ? 1 : 0)) };
    };
    const correct = rows.filter(([input, label]) => {
      const [pos, neg] = ['pos', 'neg'].map((l) => { const e = encode(input, l); return referenceRowLoss(ref, e.ids, e.mask).sum; });
      return (pos <= neg ? 'pos' : 'neg') === label;
    }).length;
    expect(j.accuracy).toBeCloseTo(correct / rows.length, 12);
    // the evaluation: confusion matrix over the label set (most frequent first: pos, neg), by the reference's predictions
    const predicted = rows.map(([input]) => {
      const [pos, neg] = ['pos', 'neg'].map((l) => { const e = encode(input, l); return referenceRowLoss(ref, e.ids, e.mask).sum; });
      return pos <= neg ? 'pos' : 'neg';
    });
    const cell = (t: string, p: string) => rows.filter(([, label], r) => label === t && predicted[r] === p).length;
    expect(j.evaluation.labels).toEqual(['pos', 'neg']);
    expect(j.evaluation.confusion_matrix).toEqual([[cell('pos', 'pos'), cell('pos', 'neg')], [cell('neg', 'pos'), cell('neg', 'neg')]]);
    expect(j.evaluation.majority_baseline).toEqual({ label: 'pos', accuracy: 0.6 });
    expect(j.rows.map((r: { predicted: string }) => r.predicted)).toEqual(predicted);
  });

  it('eval --json on free text: greedy answers scored by exact match, token F1 and ROUGE-L, on the rows --val-split holds out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-eval-text-'));
    const model = loadModelFromPath(STORIES);
    const ref = new ReferenceModel(model.config, model.weights);
    const tok = model.tokenizer;
    const prompts = ['Lily went to the park', 'Tom had a red ball', 'The sun was hot', 'A big dog ran'];
    const answerOf = (p: string) => {
      const ids = tok.encode(`${p}\n### Answer:\n`, { addBos: tok.addsBos });
      const out = ref.greedy(ids, 6, { stopIds: [tok.eosId!] }).filter((id) => id !== tok.eosId);
      return tok.decode(out, { skipSpecial: true }).trim();
    };
    const held = splitTrainVal(4, 0.5, 7).val;
    // the first held-out row expects exactly the reference's greedy answer; the other a word it never writes
    const outputs = prompts.map((p, i) => (i === held[0] ? answerOf(p) : 'zebra'));
    const data = join(dir, 'data.jsonl');
    writeFileSync(data, prompts.map((p, i) => JSON.stringify({ prompt: p, completion: outputs[i] })).join('\n'));
    const { code, out } = await capture(evalCmd, [STORIES, '--data', data, '--val-split', '0.5', '--seed', '7', '--max-new-tokens', '6', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.rows.map((r: { line: number }) => r.line)).toEqual(held.map((i) => i + 1));
    expect(j.rows[0].answer).toBe(outputs[held[0]]);
    const other = j.rows[1].answer as string;
    expect(j.evaluation).toMatchObject({ kind: 'text', rows: 2, exact_match: 0.5 });
    expect(j.evaluation.token_f1).toBeCloseTo((1 + tokenF1(other, 'zebra')) / 2, 12);
    expect(j.evaluation.rouge_l).toBeCloseTo((1 + rougeL(other, 'zebra')) / 2, 12);
  });

  it('train writes evaluation.json; eval --adapter --val-split --seed reports the same, base and tuned, on the same held-out rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-train-eval-'));
    const modelDir = writeTinyModel(join(dir, 'model'), 'llama');
    const rows = Array.from({ length: 20 }, (_, i) => `word ${i},${['red', 'blue', 'green'][i % 3]}`);
    writeFileSync(join(dir, 'data.csv'), ['text,label', ...rows].join('\n'));
    const out = join(dir, 'out');
    const common = ['--val-split', '0.3', '--seed', '5'];
    const trained = await capture(trainCmd, [modelDir, '--data', join(dir, 'data.csv'), '--out', out, '--steps', '1', '--batch-size', '4', '--seq-len', '32', '--lr', '0.01', '--targets', 'all-linear', ...common, '--json']);
    expect(trained.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(JSON.parse(trained.out).final_evaluation).toEqual(saved);
    expect(saved.evaluation).toMatchObject({ kind: 'labels', rows: 6 });
    expect([...saved.evaluation.labels].sort()).toEqual(['blue', 'green', 'red']);
    const evaluated = await capture(evalCmd, [modelDir, '--data', join(dir, 'data.csv'), '--adapter', out, '--seq-len', '32', '--batch-size', '4', ...common, '--json']);
    const j = JSON.parse(evaluated.out);
    expect(j.rows).toHaveLength(6);
    expect(j.evaluation).toEqual(saved.evaluation);
    expect(j.base_evaluation).toEqual(saved.base_evaluation);
    expect(j.evaluation.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(6);
  });
});
