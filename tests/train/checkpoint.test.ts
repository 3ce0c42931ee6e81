import { describe, expect, it } from 'vitest';
import { defaultAdapterConfig } from '../../src/lora/config.ts';
import { checkResumable, dataFingerprint, parseCheckpoint, serializeCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { defaultTrainSettings } from '../../src/train/options.ts';
import type { ModelConfig } from '../../src/model/config.ts';

const rows = [{ input: 'a', output: 'x', line: 1 }, { input: 'b', output: 'y', line: 2 }];
const model = { arch: 'llama', vocabSize: 512, hidden: 64, layers: 5, heads: 8, kvHeads: 4, headDim: 8, intermediate: 172 } as ModelConfig;

function sample(): Checkpoint {
  const P = 130;
  const f = (k: number) => Float32Array.from({ length: P }, (_, i) => Math.sin(i * k) * 1e-3 + (i === 3 ? -0 : 0));
  return {
    options: { ...defaultTrainSettings(), adapter: { ...defaultAdapterConfig('llama'), targets: 'all-linear', layers: [0, 2] }, steps: 6 },
    state: { step: 3, totalSteps: 6, cursor: { epoch: 1, batch: 2 }, bestValLoss: 1.25, bestStep: 2, evalsSinceBest: 1, elapsedS: 4.5, tokens: 321 },
    params: f(1),
    adam: { m: f(2), v: f(3).map(Math.abs) },
    best: f(4),
    model: 'llama:V512:C64:L5:H8:KV4:D8:I172',
    data: dataFingerprint(rows),
  };
}

describe('training checkpoints', () => {
  it('round-trips every tensor bit for bit and the options and state exactly', () => {
    const c = sample();
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.options).toEqual(c.options);
    expect(back.state).toEqual(c.state);
    for (const [a, b] of [[back.params, c.params], [back.adam!.m, c.adam!.m], [back.adam!.v, c.adam!.v], [back.best!, c.best!]]) {
      expect(new Uint32Array(a.buffer, a.byteOffset, a.length)).toEqual(new Uint32Array(b.buffer, b.byteOffset, b.length));
    }
  });

  it('keeps SGD checkpoints without moments and without a best adapter', () => {
    const c = { ...sample(), adam: null, best: null };
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.adam).toBeNull();
    expect(back.best).toBeNull();
  });

  it('refuses a PEFT adapter file, another model and other data with what to do', () => {
    const c = sample();
    checkResumable(c, model, rows);
    expect(() => checkResumable(c, { ...model, layers: 6 }, rows)).toThrow(/different base model/);
    expect(() => checkResumable(c, model, [...rows].reverse())).toThrow(/different data/);
    expect(() => parseCheckpoint(new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{}              ')]))).toThrow(/--init-adapter/);
  });
});
