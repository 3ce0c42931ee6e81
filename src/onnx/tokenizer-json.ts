/**
 * A Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) for a GGUF SentencePiece vocabulary
 * (`tokenizer.ggml.model` = "llama"), in the layout transformers' LlamaConverter writes (legacy):
 *
 * - normalizer: prepend ▁ (when add_space_prefix), spaces → ▁;
 * - model: BPE over the vocabulary with byte fallback (`<0xNN>` pieces), whose merges are every
 *   split a + b of a mergeable piece where a and b are mergeable pieces too, ranked by the merged
 *   piece's score, highest first — so picking the lowest-rank pair is SentencePiece's "highest
 *   score" merge (src/data/spm.ts);
 * - control and user-defined pieces are added tokens, matched whole in the text;
 * - post-processor: BOS first when the model adds it; decoder: ▁ → space, byte fallback, strip the
 *   dummy-prefix space.
 */
import { SPACE_MARK, TokenType } from '../data/spm.ts';
import { bpeTokenizerFiles } from '../data/tokenizer-gguf-bpe.ts';

type Json = Record<string, unknown>;

function numbers(v: unknown, n: number, fallback: number): number[] {
  if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) return Array.from(v as ArrayLike<number>, Number);
  return new Array<number>(n).fill(fallback);
}

function tokenId(meta: Json, key: string, n: number): number | null {
  const v = meta[key];
  const x = typeof v === 'bigint' ? Number(v) : v;
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < n ? x : null;
}

export interface SpmTokenizerFiles {
  tokenizerJson: Json;
  tokenizerConfig: Json;
}

/**
 * tokenizer.json and tokenizer_config.json for the vocabulary in GGUF metadata: SentencePiece as
 * above, or a byte-level BPE ("gpt2": Qwen3, Llama 3) rebuilt by src/data/tokenizer-gguf-bpe.ts.
 */
export function spmTokenizerFiles(meta: Json, maxPositions: number): SpmTokenizerFiles {
  if (meta['tokenizer.ggml.model'] === 'gpt2') return bpeTokenizerFiles(meta, maxPositions);
  if (meta['tokenizer.ggml.model'] !== 'llama') {
    throw new Error(`export: GGUF tokenizer "${String(meta['tokenizer.ggml.model'])}" cannot be written as tokenizer.json (only "llama" SentencePiece and "gpt2" BPE vocabularies can); export from the model's Hugging Face folder instead`);
  }
  const pieces = meta['tokenizer.ggml.tokens'];
  if (!Array.isArray(pieces) || pieces.some((p) => typeof p !== 'string')) throw new Error('export: GGUF metadata "tokenizer.ggml.tokens" is missing or not a string array');
  const n = pieces.length;
  const scores = numbers(meta['tokenizer.ggml.scores'], n, 0);
  const types = numbers(meta['tokenizer.ggml.token_type'], n, TokenType.normal);
  const mergeable = (t: number) => t === TokenType.normal || t === TokenType.userDefined || t === 0;

  const vocab: Record<string, number> = {};
  const mergeIds = new Map<string, number>();
  (pieces as string[]).forEach((piece, id) => {
    if (!(piece in vocab)) vocab[piece] = id;
    if (mergeable(types[id]) && !mergeIds.has(piece)) mergeIds.set(piece, id);
  });
  const merges: { pair: [string, string]; score: number; id: number }[] = [];
  for (const [piece, id] of mergeIds) {
    const chars = Array.from(piece);
    for (let i = 1; i < chars.length; i++) {
      const a = chars.slice(0, i).join('');
      const b = chars.slice(i).join('');
      if (mergeIds.has(a) && mergeIds.has(b)) merges.push({ pair: [a, b], score: scores[id], id });
    }
  }
  merges.sort((x, y) => y.score - x.score || x.id - y.id);

  const unkId = tokenId(meta, 'tokenizer.ggml.unknown_token_id', n) ?? (types.indexOf(TokenType.unknown) >= 0 ? types.indexOf(TokenType.unknown) : null);
  const bosId = tokenId(meta, 'tokenizer.ggml.bos_token_id', n);
  const eosId = tokenId(meta, 'tokenizer.ggml.eos_token_id', n);
  const padId = tokenId(meta, 'tokenizer.ggml.padding_token_id', n);
  const addsBos = meta['tokenizer.ggml.add_bos_token'] !== false && bosId !== null;
  const dummyPrefix = meta['tokenizer.ggml.add_space_prefix'] !== false;
  const name = (id: number | null) => (id === null ? null : (pieces[id] as string));

  const added = (pieces as string[]).flatMap((content, id) => {
    const t = types[id];
    if (t !== TokenType.control && t !== TokenType.unknown && t !== TokenType.userDefined) return [];
    return [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: t !== TokenType.userDefined }];
  });
  const replaceSpaces = { type: 'Replace', pattern: { String: ' ' }, content: SPACE_MARK };
  const bos = name(bosId);
  const tokenizerJson: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: dummyPrefix ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPACE_MARK }, replaceSpaces] } : replaceSpaces,
    pre_tokenizer: null,
    post_processor: addsBos && bos !== null
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
        }
      : null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE_MARK }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        ...(dummyPrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
      ],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: name(unkId), continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map((m) => m.pair),
    },
  };
  const chatTemplate = typeof meta['tokenizer.chat_template'] === 'string' ? meta['tokenizer.chat_template'] : undefined;
  const tokenizerConfig: Json = {
    tokenizer_class: 'LlamaTokenizer',
    legacy: true,
    add_bos_token: addsBos,
    add_eos_token: false,
    bos_token: bos,
    eos_token: name(eosId),
    unk_token: name(unkId),
    pad_token: name(padId),
    model_max_length: maxPositions,
    clean_up_tokenization_spaces: false,
    ...(chatTemplate !== undefined ? { chat_template: chatTemplate } : {}),
  };
  return { tokenizerJson, tokenizerConfig };
}
