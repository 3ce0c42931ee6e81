import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/io/gguf.ts';
import { tokenizerFromGguf } from '../../src/data/tokenizer.ts';

const data = (p: string) => new URL(`../../../shared/data/${p}`, import.meta.url);
const gguf = parseGguf(new Uint8Array(readFileSync(data('models/stories260K.gguf'))), 'stories260K.gguf');
const meta = gguf.metadata as Record<string, unknown>;
const tok = tokenizerFromGguf(meta);
const pieces = meta['tokenizer.ggml.tokens'] as string[];
const scores = (meta['tokenizer.ggml.scores'] as number[]).map(Number);
const types = (meta['tokenizer.ggml.token_type'] as number[]).map(Number);

/**
 * Independent reference: the textbook O(n²) SentencePiece BPE — rescan every adjacent pair, merge
 * the one whose concatenation is a normal piece with the highest score (leftmost on ties), repeat;
 * leftover characters become <0xNN> byte pieces.
 */
function naiveSpm(text: string): number[] {
  const id = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (types[i] === 1 && !id.has(p)) id.set(p, i);
  });
  if (text.length === 0) return [1];
  let syms = Array.from('▁' + text.replaceAll(' ', '▁'));
  for (;;) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i + 1 < syms.length; i++) {
      const m = id.get(syms[i] + syms[i + 1]);
      if (m !== undefined && scores[m] > bestScore) {
        best = i;
        bestScore = scores[m];
      }
    }
    if (best < 0) break;
    syms = [...syms.slice(0, best), syms[best] + syms[best + 1], ...syms.slice(best + 2)];
  }
  const out = [1];
  for (const s of syms) {
    const m = id.get(s);
    if (m !== undefined) out.push(m);
    else for (const b of new TextEncoder().encode(s)) out.push(pieces.indexOf(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
  }
  return out;
}

const smsLines = readFileSync(data('datasets/sms-spam/SMSSpamCollection.tsv'), 'utf8').split('\n').slice(0, 200);
const smsTexts = smsLines.map((l) => l.slice(l.indexOf('\t') + 1));
const bankingLines = readFileSync(data('datasets/banking77/train.csv'), 'utf8').split('\r\n').slice(1, 201);

describe('tokenizerFromGguf on stories260K (llama2.c tok512 SentencePiece vocabulary)', () => {
  it('reads the special tokens and the vocabulary size', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.bosId).toBe(1);
    expect(tok.eosId).toBe(2);
    expect(tok.padId).toBeNull(); // the file stores 0xFFFFFFFF = none
    expect(tok.addsBos).toBe(true);
    expect(tok.chatTemplate).toBeNull();
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });

  it('encodes "Once upon a time" to the pieces derived by hand from the vocabulary', () => {
    // ▁Once=403 ▁upon=407 ▁a=261 ▁time=378 all exist; merge order by score: ▁t(0) ▁a(-2) im(-29)
    // on(-30) ▁u(-59) ▁O(-60) ▁On(-62) ce(-72) ▁up(-91) ime(-110) ▁time(-119) ▁Once(-144) ▁upon(-148).
    expect([403, 407, 261, 378].map((i) => pieces[i])).toEqual(['▁Once', '▁upon', '▁a', '▁time']);
    expect(tok.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(tok.encode('Once upon a time', { addBos: false })).toEqual([403, 407, 261, 378]);
  });

  it('falls back to UTF-8 byte pieces for characters outside the vocabulary', () => {
    // "▁H"=320 "i"=417 "▁"=410, then 😀 = F0 9F 98 80 → <0xF0>.. at id 3 + byte
    expect(pieces[320]).toBe('▁H');
    expect(pieces.includes('▁Hi')).toBe(false);
    expect(tok.encode('Hi 😀')).toEqual([1, 320, 417, 410, 3 + 0xf0, 3 + 0x9f, 3 + 0x98, 3 + 0x80]);
    expect(tok.encode('a\nb', { addBos: false })).toEqual([261, 3 + 0x0a, 430]); // ▁a <0x0A> b
    expect(tok.decode(tok.encode('Hi 😀'), { skipSpecial: true })).toBe('Hi 😀');
  });

  it('matches the naive reference on 400 real rows', () => {
    for (const s of [...smsTexts, ...bankingLines]) expect(tok.encode(s)).toEqual(naiveSpm(s));
  });

  it('round-trips the first 200 rows of SMS and banking77, accents and emoji', () => {
    const extra = ['café crème brûlée', 'naïve résumé — “quotes” ✓', '  leading and trailing  ', '日本語のテキスト', '🎉🎉 party', 'tab\there', ''];
    for (const s of [...smsTexts, ...bankingLines, ...extra]) {
      expect(tok.decode(tok.encode(s), { skipSpecial: true })).toBe(s);
    }
    expect(tok.decode([1, 403, 407])).toBe('<s>Once upon');
  });

  it('matches special tokens written in the text as single tokens', () => {
    expect(tok.encode('a</s>', { addBos: false })).toEqual([261, 2]);
  });

  it('encodes all 5,574 SMS rows within 3 s', () => {
    const all = readFileSync(data('datasets/sms-spam/SMSSpamCollection.tsv'), 'utf8').split('\n');
    const t0 = performance.now();
    let n = 0;
    for (const l of all) n += tok.encode(l).length;
    const ms = performance.now() - t0;
    expect(n).toBeGreaterThan(all.length * 10);
    expect(ms).toBeLessThan(3000); // generous bound for a shared 2-core machine
  });

  it('renders a chat template from the metadata with bos_token and eos_token', () => {
    const zephyr =
      "{% for m in messages %}{{ '<|' + m['role'] + '|>\n' + m['content'] + eos_token + '\n' }}{% endfor %}" +
      "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";
    const chat = tokenizerFromGguf({ ...meta, 'tokenizer.chat_template': zephyr });
    const text = chat.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    expect(text).toBe('<|user|>\nhi</s>\n<|assistant|>\n');
    expect(chat.chatEndOfTurn).toBe('</s>');
    expect(chat.encode(text).filter((id) => id === 2).length).toBe(1); // "</s>" is the EOS token
    const strict = tokenizerFromGguf({ ...meta, 'tokenizer.chat_template': "{{ raise_exception('system first') }}" });
    expect(strict.chatEndOfTurn).toBe('</s>'); // falls back to EOS
  });

  it('refuses vocabularies it does not implement', () => {
    expect(() => tokenizerFromGguf({ ...meta, 'tokenizer.ggml.model': 't5' })).toThrow(/"t5" is not supported/);
    // A byte-level BPE ("gpt2") vocabulary is read, but needs its merges.
    expect(() => tokenizerFromGguf({ ...meta, 'tokenizer.ggml.model': 'gpt2' })).toThrow(/needs its merges/);
  });
});
