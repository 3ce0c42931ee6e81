import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ChatTemplate, noChatTemplateError } from './chat-template.ts';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer.ts';

type Json = Record<string, unknown>;

/** tokenizer_config.json writes special tokens as strings or as AddedToken objects `{content}`. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

const BOS_FALLBACKS = ['<|begin_of_text|>', '<s>', '<|startoftext|>', '<bos>', '<|endoftext|>'];
const EOS_FALLBACKS = ['<|end_of_text|>', '</s>', '<|endoftext|>', '<eos>', '<|im_end|>'];

/** The first special token of a TemplateProcessing post-processor (the BOS it adds), if any. */
function postProcessorBos(tokenizerJson: Json): string | null {
  const find = (pp: unknown): string | null => {
    if (!pp || typeof pp !== 'object') return null;
    const p = pp as Json;
    if (p.type === 'Sequence' && Array.isArray(p.processors)) {
      for (const q of p.processors) {
        const found = find(q);
        if (found) return found;
      }
      return null;
    }
    if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return null;
    const first = p.single[0] as Json | undefined;
    const special = first?.SpecialToken as Json | undefined;
    return typeof special?.id === 'string' ? special.id : null;
  };
  return find(tokenizerJson.post_processor);
}

/**
 * A tokenizer from Hugging Face `tokenizer.json` (+ `tokenizer_config.json`, which holds the
 * special tokens and the chat template). BOS/EOS come from the config, then from the
 * post-processor, then from the usual token names; PAD only from the config.
 */
export function tokenizerFromHf(tokenizerJson: object, tokenizerConfig: object = {}): Tokenizer {
  const json = tokenizerJson as Json;
  const config = tokenizerConfig as Json;
  if (!json || typeof json.model !== 'object' || json.model === null) {
    throw new Error('tokenizer.json has no "model" section; pass the tokenizer.json file of the model, not its config');
  }
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(json, config);
  } catch (e) {
    throw new Error(`tokenizer.json could not be loaded: ${(e as Error).message}`);
  }
  const vocab = hf.get_vocab(true);
  const idOf = (token: string | null): number | null => (token === null ? null : (vocab.get(token) ?? null));
  const firstKnown = (names: string[]): string | null => names.find((t) => vocab.has(t)) ?? null;

  const bosToken =
    ('bos_token' in config ? tokenString(config.bos_token) : null) ??
    postProcessorBos(json) ??
    ('bos_token' in config ? null : firstKnown(BOS_FALLBACKS));
  const eosToken = tokenString(config.eos_token) ?? firstKnown(EOS_FALLBACKS);
  const padToken = tokenString(config.pad_token);
  const bosId = idOf(bosToken);
  const eosId = idOf(eosToken);
  const padId = idOf(padToken);

  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);

  // Whether the model's tokenizer adds BOS: the config says so, or its post-processor does it.
  let addsBos: boolean;
  if (typeof config.add_bos_token === 'boolean') addsBos = config.add_bos_token && bosId !== null;
  else addsBos = bosId !== null && hf.encode('a', { add_special_tokens: true }).ids[0] === bosId;

  const specialTokens = [...hf.get_added_tokens_decoder().values()].filter((t) => t.special).map((t) => t.content);
  const templateSource = typeof config.chat_template === 'string' ? config.chat_template : null;
  const template =
    templateSource === null
      ? null
      : new ChatTemplate(templateSource, {
          bosToken: bosToken ?? '',
          eosToken: eosToken ?? '',
          specialTokens,
        });

  const encode = (text: string, opts?: EncodeOptions): number[] => {
    const ids = hf.encode(text, { add_special_tokens: false }).ids;
    return (opts?.addBos ?? addsBos) && bosId !== null ? [bosId, ...ids] : ids;
  };
  const decode = (ids: number[], opts?: DecodeOptions): string =>
    hf.decode(ids, { skip_special_tokens: opts?.skipSpecial ?? false });

  return {
    encode,
    decode,
    bosId,
    eosId,
    padId,
    vocabSize,
    addsBos,
    chatTemplate: templateSource,
    chatEndOfTurn: template ? template.endOfTurn() : null,
    applyChatTemplate(messages, opts) {
      if (!template) throw noChatTemplateError();
      return template.render(messages, opts?.addGenerationPrompt ?? false);
    },
    idToToken: (id) => hf.id_to_token(id),
  };
}
