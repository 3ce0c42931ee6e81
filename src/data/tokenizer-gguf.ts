import { ChatTemplate, noChatTemplateError } from './chat-template.ts';
import { SPACE_MARK, SpmModel, TokenType, spmEscape } from './spm.ts';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer.ts';
import { tokenizerFromGgufBpe } from './tokenizer-gguf-bpe.ts';

/** GGUF stores "no such token" as -1 or as u32 0xFFFFFFFF. */
function tokenId(meta: Record<string, unknown>, key: string, vocabSize: number): number | null {
  const v = meta[key];
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= vocabSize) return null;
  return n;
}

function numberArray(v: unknown): number[] | null {
  if (Array.isArray(v)) return v.map(Number);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, Number);
  return null;
}

/**
 * A tokenizer from GGUF metadata with a SentencePiece vocabulary (`tokenizer.ggml.model` =
 * "llama"): Llama 1/2, TinyLlama, the llama2.c tinyllamas, Gemma 3. Byte-level BPE vocabularies
 * ("gpt2": Qwen3, Llama 3) go to tokenizer-gguf-bpe.ts; other vocabularies throw.
 */
export function tokenizerFromGguf(meta: Record<string, unknown>): Tokenizer {
  const model = meta['tokenizer.ggml.model'];
  if (model === 'gpt2') return tokenizerFromGgufBpe(meta);
  if (model !== 'llama') {
    throw new Error(
      `GGUF tokenizer "${String(model)}" is not supported here (only "llama" SentencePiece and "gpt2" BPE ` +
        'vocabularies are); load the model from its Hugging Face folder with tokenizer.json instead',
    );
  }
  const pieces = meta['tokenizer.ggml.tokens'];
  if (!Array.isArray(pieces) || pieces.some((p) => typeof p !== 'string')) {
    throw new Error('GGUF metadata "tokenizer.ggml.tokens" is missing or not a string array; the file is incomplete');
  }
  const n = pieces.length;
  const scores = numberArray(meta['tokenizer.ggml.scores']) ?? new Array<number>(n).fill(0);
  const types = numberArray(meta['tokenizer.ggml.token_type']) ?? new Array<number>(n).fill(TokenType.normal);
  if (scores.length !== n || types.length !== n) {
    throw new Error(
      `GGUF tokenizer arrays disagree: ${n} tokens, ${scores.length} scores, ${types.length} token types`,
    );
  }
  const unkId = tokenId(meta, 'tokenizer.ggml.unknown_token_id', n) ?? (types.indexOf(TokenType.unknown) >= 0 ? types.indexOf(TokenType.unknown) : null);
  const spm = new SpmModel({ pieces: pieces as string[], scores, types }, unkId);
  const bosId = tokenId(meta, 'tokenizer.ggml.bos_token_id', n);
  const eosId = tokenId(meta, 'tokenizer.ggml.eos_token_id', n);
  const padId = tokenId(meta, 'tokenizer.ggml.padding_token_id', n);
  const addsBos = meta['tokenizer.ggml.add_bos_token'] !== false && bosId !== null;
  const addDummyPrefix = meta['tokenizer.ggml.add_space_prefix'] !== false;

  // Control and user-defined tokens written in the text are matched whole, longest first.
  const specialIds = new Map<string, number>();
  types.forEach((t, id) => {
    if ((t === TokenType.control || t === TokenType.userDefined) && pieces[id].length > 0) {
      if (!specialIds.has(pieces[id])) specialIds.set(pieces[id], id);
    }
  });
  const specialList = [...specialIds.keys()].sort((a, b) => b.length - a.length);
  const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const specialRe = specialList.length > 0 ? new RegExp(`(${specialList.map(escapeRe).join('|')})`) : null;

  const templateSource = typeof meta['tokenizer.chat_template'] === 'string' ? (meta['tokenizer.chat_template'] as string) : null;
  const template =
    templateSource === null
      ? null
      : new ChatTemplate(templateSource, {
          bosToken: bosId === null ? '' : pieces[bosId],
          eosToken: eosId === null ? '' : pieces[eosId],
          specialTokens: specialList,
        });

  const encode = (text: string, opts?: EncodeOptions): number[] => {
    const out: number[] = [];
    if ((opts?.addBos ?? addsBos) && bosId !== null) out.push(bosId);
    // As llama.cpp: the dummy prefix goes before the text and after every special token.
    const parts = specialRe ? text.split(specialRe) : [text];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i % 2 === 1) out.push(specialIds.get(part)!);
      else if (part.length > 0) spm.encodeEscaped(spmEscape(part, addDummyPrefix), out);
    }
    return out;
  };

  const decode = (ids: number[], opts?: DecodeOptions): string => {
    let text = '';
    let bytes: number[] = [];
    // SentencePiece drops the dummy-prefix space of the first text piece, after any control tokens.
    let atStart = addDummyPrefix;
    const flush = () => {
      if (bytes.length === 0) return;
      let s = new TextDecoder().decode(new Uint8Array(bytes));
      if (atStart && s.startsWith(' ')) s = s.slice(1);
      atStart = false;
      text += s;
      bytes = [];
    };
    for (const id of ids) {
      const type = types[id];
      const piece = pieces[id];
      if (piece === undefined) throw new Error(`token id ${id} is outside the vocabulary (0..${n - 1})`);
      if (type === TokenType.byte) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (m) {
          bytes.push(parseInt(m[1], 16));
          continue;
        }
      }
      flush();
      if (type === TokenType.control || type === TokenType.unknown) {
        if (!opts?.skipSpecial) text += piece;
        continue;
      }
      let s = piece.replaceAll(SPACE_MARK, ' ');
      if (atStart && s.startsWith(' ')) s = s.slice(1);
      atStart = false;
      text += s;
    }
    flush();
    return text;
  };

  return {
    encode,
    decode,
    bosId,
    eosId,
    padId,
    vocabSize: n,
    addsBos,
    chatTemplate: templateSource,
    chatEndOfTurn: template ? template.endOfTurn() : null,
    applyChatTemplate(messages, opts) {
      if (!template) throw noChatTemplateError();
      return template.render(messages, opts?.addGenerationPrompt ?? false);
    },
    idToToken: (id) => pieces[id] as string | undefined,
  };
}
