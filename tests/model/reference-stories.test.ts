import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findGgufTensor, ggufTensorToF32, parseGguf } from '../../src/io/gguf.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import type { WeightSource } from '../../src/model/weights.ts';
import { ReferenceModel } from '../reference/model.ts';

const bytes = new Uint8Array(readFileSync(new URL('../../../shared/data/models/stories260K.gguf', import.meta.url)));
const model = loadModelFiles({ 'stories260K.gguf': bytes }, 'stories260K.gguf');

/** Longest run of one token id repeated back to back. */
function longestRun(ids: number[]): number {
  let best = 0, run = 0;
  ids.forEach((id, i) => {
    run = i > 0 && ids[i - 1] === id ? run + 1 : 1;
    best = Math.max(best, run);
  });
  return best;
}

describe('CPU reference forward of stories260K.gguf (real pretrained weights)', () => {
  it('greedy decoding from BOS writes a fluent children\'s story', () => {
    const ref = new ReferenceModel(model.config, model.weights);
    const bos = model.tokenizer.bosId!;
    const ids = ref.greedy([bos], 40, { stopIds: [model.tokenizer.eosId!] });
    const text = model.tokenizer.decode(ids);
    console.log(`stories260K greedy from BOS: ${JSON.stringify(text)}`);
    expect(ids.length).toBe(40);
    expect(text.startsWith('Once upon a time')).toBe(true);
    for (const word of [' there was ', ' little ', ' She ', ' the ']) expect(text).toContain(word);
    expect(longestRun(ids)).toBeLessThanOrEqual(2);
    // Every word of the text is an ordinary lower/upper-case English word or punctuation.
    expect(text).toMatch(/^[A-Za-z ,.!'"\n]+$/);
  });

  it('control: the same weights with the q/k rows left in llama.cpp order lose the story after a few words', () => {
    const file = parseGguf(bytes, 'stories260K.gguf');
    const permuted: WeightSource = {
      ...model.weights,
      toF32: (name) => {
        const m = /^model\.layers\.(\d+)\.self_attn\.(q|k)_proj\.weight$/.exec(name);
        return m ? ggufTensorToF32(file, bytes, findGgufTensor(file, `blk.${m[1]}.attn_${m[2]}.weight`)) : model.weights.toF32(name);
      },
    };
    const text = model.tokenizer.decode(new ReferenceModel(model.config, permuted).greedy([1], 40));
    expect(text).not.toContain('named Lily. She loved to play');
  });
});
