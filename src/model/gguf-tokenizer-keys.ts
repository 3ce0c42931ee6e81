/**
 * The `tokenizer.*` keys of a GGUF file written by tsugiki, so llama.cpp (and ollama, LM Studio)
 * tokenize as the source model does:
 *
 * - from a GGUF source: its own tokenizer keys, copied with their stored types;
 * - from a Hugging Face tokenizer.json, as convert_hf_to_gguf.py writes them:
 *   byte-level BPE → `tokenizer.ggml.model = "gpt2"`: tokens (the byte-level strings, by id),
 *     token_type (1 normal, 3 control for special added tokens, 4 user-defined), merges "a b",
 *     and `tokenizer.ggml.pre`, the pre-tokenizer llama.cpp should split with, recognised from
 *     the regex in tokenizer.json ("gpt-2", "llama-bpe", "qwen2"; "smollm" for GPT-2 after single digits);
 *   SentencePiece-style BPE (byte_fallback, ▁ for spaces) → `"llama"`: tokens, scores (−rank of
 *     the merge that makes the token, so llama.cpp's highest-score merge is the lowest rank),
 *     token_type (6 for <0xNN> bytes).
 *   The vocabulary is padded to the model's vocab_size with unused `[PADn]` tokens (llama.cpp
 *   needs one token per embedding row).
 * Special ids (bos/eos/unk/padding), add_bos_token and the chat template come along.
 */
import { GgufType, type GgufFile, type GgufValue } from '../io/gguf.ts';
import { kv, type GgufKv, type GgufTypeId } from '../io/gguf-write.ts';
import type { ModelConfig } from './config.ts';
import type { Tokenizer } from '../data/tokenizer.ts';

type Json = Record<string, unknown>;

const ARRAY_ELEMS: Record<string, GgufTypeId> = {
  'tokenizer.ggml.tokens': GgufType.STRING,
  'tokenizer.ggml.merges': GgufType.STRING,
  'tokenizer.ggml.scores': GgufType.FLOAT32,
  'tokenizer.ggml.token_type': GgufType.INT32,
};

function elemTypeOf(key: string, values: GgufValue[]): GgufTypeId {
  if (key in ARRAY_ELEMS) return ARRAY_ELEMS[key];
  if (values.every((v) => typeof v === 'string')) return GgufType.STRING;
  if (values.every((v) => typeof v === 'number' && Number.isInteger(v))) return GgufType.INT32;
  return GgufType.FLOAT32;
}

/** Every `tokenizer.*` key of a GGUF file, with its stored type. */
export function tokenizerKeysFromGguf(file: GgufFile): GgufKv[] {
  return Object.keys(file.metadata).filter((k) => k.startsWith('tokenizer.')).map((key) => {
    const value = file.metadata[key];
    const type = file.metadataTypes[key] as GgufTypeId;
    if (type === GgufType.ARRAY) return kv.array(key, elemTypeOf(key, value as GgufValue[]), value as GgufValue[]);
    return { key, type, value };
  });
}

/** Pre-tokenizer regexes (from tokenizer.json Split pre-tokenizers) → llama.cpp's names. */
const PRE_BY_REGEX: Record<string, string> = {
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": 'llama-bpe',
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": 'qwen2',
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": 'gpt-2',
};

function preTokenizerParts(pre: unknown): Json[] {
  if (!pre || typeof pre !== 'object') return [];
  const p = pre as Json;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return (p.pretokenizers as Json[]).flatMap(preTokenizerParts);
  return [p];
}

function regexOf(p: Json): string | null {
  const pattern = p.pattern as Json | undefined;
  if (p.type === 'Split' && pattern && typeof pattern.Regex === 'string') return pattern.Regex;
  return null;
}

/** llama.cpp's name for a byte-level BPE pre-tokenizer, or an error naming what was found. */
export function preTokenizerName(tokenizerJson: Json): string {
  const parts = preTokenizerParts(tokenizerJson.pre_tokenizer);
  const split = parts.map(regexOf).find((r) => r !== null);
  if (split !== undefined && split !== null) {
    const name = PRE_BY_REGEX[split];
    if (name) return name;
    throw new Error(`GGUF export: tokenizer.json splits words with a regex llama.cpp's converter does not know by name (${split.slice(0, 60)}…); supported: the GPT-2, Llama 3 and Qwen2 pre-tokenizers`);
  }
  const byteLevel = parts.find((p) => p.type === 'ByteLevel');
  if (byteLevel && byteLevel.use_regex !== false) {
    // SmolLM's tokenizer splits off every digit before the GPT-2 regex: llama.cpp calls that "smollm".
    const digits = parts.find((p) => p.type === 'Digits');
    if (digits) {
      if (digits.individual_digits === true && parts.indexOf(digits) < parts.indexOf(byteLevel)) return 'smollm';
      throw new Error('GGUF export: tokenizer.json splits digits in groups before the GPT-2 regex, which llama.cpp has no pre-tokenizer for');
    }
    return 'gpt-2';
  }
  throw new Error('GGUF export: tokenizer.json has no pre-tokenizer llama.cpp can name (expected ByteLevel or a GPT-2/Llama 3/Qwen2 Split)');
}

interface AddedToken { id: number; content: string; special: boolean }

function addedTokens(json: Json): AddedToken[] {
  return Array.isArray(json.added_tokens) ? (json.added_tokens as AddedToken[]).filter((t) => Number.isInteger(t.id) && typeof t.content === 'string') : [];
}

function mergePairs(model: Json): [string, string][] {
  const merges = Array.isArray(model.merges) ? model.merges : [];
  return merges.map((m) => (Array.isArray(m) ? [String(m[0]), String(m[1])] : (String(m).split(' ', 2) as [string, string])));
}

/** Tokens by id, padded to the model's vocab size with unused [PADn] tokens; types by id. */
function vocabById(model: Json, added: AddedToken[], vocabSize: number, source: string): { tokens: string[]; types: number[] } {
  const vocab = (model.vocab ?? {}) as Record<string, number>;
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Array<number>(vocabSize).fill(1);
  for (const [tok, id] of Object.entries(vocab)) if (id < vocabSize) tokens[id] = tok;
  for (const t of added) {
    if (t.id >= vocabSize) throw new Error(`GGUF export: ${source}: added token ${JSON.stringify(t.content)} has id ${t.id}, beyond the model's vocab_size ${vocabSize}`);
    tokens[t.id] = t.content;
    types[t.id] = t.special ? 3 : 4;
  }
  for (let i = 0; i < vocabSize; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = 5;
    }
  }
  return { tokens: tokens as string[], types };
}

/** The tokenizer keys for a model whose tokenizer comes from tokenizer.json (+ tokenizer_config.json). */
export function tokenizerKeysFromHf(tokenizerJson: Json, tokenizerConfig: Json, config: ModelConfig, tokenizer: Tokenizer): GgufKv[] {
  const model = (tokenizerJson.model ?? {}) as Json;
  if (model.type !== 'BPE') throw new Error(`GGUF export: tokenizer.json has a ${String(model.type)} model; only BPE tokenizers are written to GGUF`);
  const added = addedTokens(tokenizerJson);
  const { tokens, types } = vocabById(model, added, config.vocabSize, 'tokenizer.json');
  const merges = mergePairs(model);
  const out: GgufKv[] = [];
  if (model.byte_fallback === true) {
    const rank = new Map<string, number>();
    merges.forEach(([a, b], i) => { if (!rank.has(a + b)) rank.set(a + b, i); });
    const scores = tokens.map((t, id) => -(rank.get(t) ?? merges.length + id));
    tokens.forEach((t, id) => { if (/^<0x[0-9A-F]{2}>$/.test(t) && types[id] === 1) types[id] = 6; });
    const unk = typeof model.unk_token === 'string' ? tokens.indexOf(model.unk_token) : -1;
    if (unk >= 0) types[unk] = 2;
    out.push(kv.str('tokenizer.ggml.model', 'llama'), kv.array('tokenizer.ggml.tokens', GgufType.STRING, tokens),
      kv.array('tokenizer.ggml.scores', GgufType.FLOAT32, scores), kv.array('tokenizer.ggml.token_type', GgufType.INT32, types));
    if (unk >= 0) out.push(kv.u32('tokenizer.ggml.unknown_token_id', unk));
    const prepends = JSON.stringify(tokenizerJson.normalizer ?? null).includes('"Prepend"') || /"prepend_scheme":"(always|first)"/.test(JSON.stringify(tokenizerJson.pre_tokenizer ?? null));
    out.push(kv.bool('tokenizer.ggml.add_space_prefix', prepends));
  } else {
    out.push(kv.str('tokenizer.ggml.model', 'gpt2'), kv.str('tokenizer.ggml.pre', preTokenizerName(tokenizerJson)),
      kv.array('tokenizer.ggml.tokens', GgufType.STRING, tokens), kv.array('tokenizer.ggml.token_type', GgufType.INT32, types),
      kv.array('tokenizer.ggml.merges', GgufType.STRING, merges.map(([a, b]) => `${a} ${b}`)));
  }
  if (tokenizer.bosId !== null) out.push(kv.u32('tokenizer.ggml.bos_token_id', tokenizer.bosId));
  if (tokenizer.eosId !== null) out.push(kv.u32('tokenizer.ggml.eos_token_id', tokenizer.eosId));
  if (tokenizer.padId !== null) out.push(kv.u32('tokenizer.ggml.padding_token_id', tokenizer.padId));
  out.push(kv.bool('tokenizer.ggml.add_bos_token', tokenizer.addsBos));
  const template = tokenizer.chatTemplate ?? (typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : null);
  if (template) out.push(kv.str('tokenizer.chat_template', template));
  return out;
}
