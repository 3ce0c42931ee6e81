import { describe, expect, it } from 'vitest';
import type { EncodedExample } from '../../src/data/prompt.ts';
import { BatchStream, epochBatches, scoredLabels, stepsPerEpoch, totalSteps } from '../../src/train/data.ts';

const ex = (n: number): EncodedExample => ({ inputIds: [1, 10 + n, 2, 3], lossMask: [0, 0, 1, 1], truncated: false, promptLength: 2 });
const train = Array.from({ length: 10 }, (_, i) => ex(i));

describe('training data order', () => {
  it('shuffles each epoch differently but reproducibly from the seed, and not at all with --no-shuffle', () => {
    const o = { batchSize: 4, shuffle: true, seed: 7, padId: 0 };
    const order = (e: number) => epochBatches(train, e, o).flatMap((b) => b.exampleIndices);
    expect(order(0)).toEqual(order(0));
    expect(order(0)).not.toEqual(order(1));
    expect([...order(1)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    const plain = epochBatches(train, 3, { ...o, shuffle: false });
    expect(plain.map((b) => b.exampleIndices)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(plain[0].inputIds.slice(0, 4)).toEqual(Int32Array.from([1, 10, 2, 3])); // row 0 really is example 0
  });

  it('steps never cross an epoch end; a stream restarted from its cursor continues identically', () => {
    const o = { batchSize: 3, gradAccum: 2, shuffle: true, seed: 1, padId: 0 };
    expect(stepsPerEpoch(10, 3, 2)).toEqual({ micro: 4, steps: 2 });
    expect(totalSteps(10, { steps: null, epochs: 3, batchSize: 3, gradAccum: 2 })).toBe(6);
    expect(totalSteps(10, { steps: 5, epochs: 3, batchSize: 3, gradAccum: 2 })).toBe(5);
    const a = new BatchStream(train, o);
    const sizes: number[] = [];
    const seen: number[][] = [];
    for (let s = 0; s < 5; s++) {
      const step = a.nextStep();
      sizes.push(step.length);
      seen.push(step.flatMap((b) => b.exampleIndices));
    }
    expect(sizes).toEqual([2, 2, 2, 2, 2]);
    const b = new BatchStream(train, o);
    for (let s = 0; s < 3; s++) b.nextStep();
    const resumed = new BatchStream(train, o, { ...b.cursor });
    expect(resumed.nextStep().flatMap((x) => x.exampleIndices)).toEqual(seen[3]);
    expect(resumed.nextStep().flatMap((x) => x.exampleIndices)).toEqual(seen[4]);
  });

  it('scores outputs as labels only when they are a few short shared values', () => {
    const rows = (outs: string[]) => outs.map((output, i) => ({ input: `q${i}`, output, line: i + 1 }));
    expect(scoredLabels(rows(['ham', 'spam', 'ham', 'ham', 'spam', 'ham']))).toEqual(['ham', 'spam']);
    expect(scoredLabels(rows(['a long free-form answer', 'another', 'and a third', 'fourth']))).toBeNull();
  });
});
