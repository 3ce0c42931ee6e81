import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { TRAIN_FLAGS, TRAIN_VALUED, trainOptionsFromArgs } from '../../src/train/cli-options.ts';
import { trainOptionProblems } from '../../src/train/options.ts';

const config = { arch: 'llama', layers: 5, maxPositions: 512 } as ModelConfig;
const parse = (argv: string[]) => trainOptionsFromArgs(parseArgs(argv, TRAIN_VALUED, TRAIN_FLAGS), config);

describe('train command options', () => {
  it('defaults follow the HF Trainer and PEFT, with the documented LoRA choices', () => {
    const o = parse([]);
    expect([o.beta1, o.beta2, o.eps, o.weightDecay, o.maxGradNorm, o.warmup, o.schedule, o.optimizer]).toEqual([0.9, 0.999, 1e-8, 0, 1, 0, 'linear', 'adamw']);
    expect([o.lr, o.epochs, o.steps, o.batchSize, o.gradAccum, o.seed, o.shuffle]).toEqual([2e-4, 3, null, 8, 1, 42, true]);
    expect([o.adapter.rank, o.adapter.alpha, o.adapter.dropout, o.adapter.targets, o.adapter.layers]).toEqual([8, 16, 0.05, ['q_proj', 'v_proj'], null]);
    expect(o.seqLen).toBe(256);
    expect(trainOptionProblems(o, 512)).toEqual([]);
  });

  it('reads every option', () => {
    const o = parse(['--rank', '4', '--alpha', '8', '--dropout', '0', '--targets', 'all-linear', '--layers', '0-1,4', '--rslora', '--lr', '1e-3',
      '--steps', '7', '--batch-size', '3', '--grad-accum', '2', '--seq-len', '64', '--warmup', '0.1', '--schedule', 'cosine', '--weight-decay', '0.01',
      '--max-grad-norm', '0', '--optimizer', 'sgd', '--seed', '5', '--val-split', '0', '--no-shuffle', '--eval-every', '3', '--patience', '2']);
    expect(o.adapter).toMatchObject({ rank: 4, alpha: 8, dropout: 0, targets: 'all-linear', layers: [0, 1, 4], rslora: true, seed: 5 });
    expect(o).toMatchObject({ lr: 1e-3, steps: 7, batchSize: 3, gradAccum: 2, seqLen: 64, warmup: 0.1, schedule: 'cosine', weightDecay: 0.01,
      maxGradNorm: 0, optimizer: 'sgd', seed: 5, valSplit: 0, shuffle: false, evalEvery: 3, patience: 2 });
    // patience without validation rows is refused
    expect(trainOptionProblems(o, 512).join()).toMatch(/early stopping/);
  });

  it('refuses bad values with the option name', () => {
    expect(() => parse(['--schedule', 'step'])).toThrow(/--schedule step: choose one of constant, linear, cosine/);
    expect(() => parse(['--batch-size', '2.5'])).toThrow(/--batch-size 2.5/);
    expect(() => parse(['--targets', 'c_attn'])).toThrow(/not a module of a llama model/);
    expect(() => parse(['--layers', '9'])).toThrow(/past the last layer/);
    expect(trainOptionProblems(parse(['--seq-len', '1024']), 512).join()).toMatch(/longer than the model's context of 512/);
  });
});
