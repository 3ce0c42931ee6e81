import { describe, it, expect } from 'vitest';
import { mulberry32 } from '../../src/data/rng.ts';
import { argmax, sampleToken, samplingDistribution } from '../../src/model/sampling.ts';

const logits = [1.0, 3.0, 2.0, 3.0, -1.0, 0.5];

describe('token sampling', () => {
  it('greedy is argmax with ties to the lowest id', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, { temperature: 0 }, mulberry32(1))).toBe(1);
  });

  it('temperature softmax, top-k and top-p give the expected distributions', () => {
    const T = 0.7;
    const z = logits.reduce((s, l) => s + Math.exp(l / T), 0);
    const full = samplingDistribution(logits, { temperature: T });
    logits.forEach((l, i) => expect(full[i]).toBeCloseTo(Math.exp(l / T) / z, 12));
    const k2 = samplingDistribution(logits, { temperature: 1, topK: 2 });
    expect(Array.from(k2)).toEqual([0, 0.5, 0, 0.5, 0, 0]); // two equal logits share the mass
    // top-p 0.6 at T = 1: p(1) = p(3) ≈ 0.39 each; the cumulative sum reaches 0.6 at the second.
    const p = samplingDistribution(logits, { temperature: 1, topP: 0.6 });
    expect(p[1]).toBeCloseTo(0.5, 12);
    expect(p[3]).toBeCloseTo(0.5, 12);
    expect(p[2]).toBe(0);
  });

  it('a seeded sampler repeats itself and follows the distribution', () => {
    const draw = (seed: number) => {
      const rng = mulberry32(seed);
      return Array.from({ length: 4000 }, () => sampleToken(logits, { temperature: 1 }, rng));
    };
    const a = draw(42);
    expect(draw(42)).toEqual(a);
    const want = samplingDistribution(logits, { temperature: 1 });
    for (let i = 0; i < logits.length; i++) {
      const freq = a.filter((x) => x === i).length / a.length;
      expect(Math.abs(freq - want[i])).toBeLessThan(0.03); // 4000 draws: σ ≤ 0.008
    }
  });
});
