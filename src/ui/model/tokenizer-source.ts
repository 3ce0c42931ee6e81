import { tokenizerFromGguf, tokenizerFromHf, type Tokenizer } from '../../data/tokenizer.ts';
import type { TokenizerSource } from '../../worker/protocol.ts';

/** The page's own copy of the loaded model's tokenizer, built from the files the worker read. */
export function tokenizerFromSource(source: TokenizerSource): Tokenizer {
  return source.kind === 'gguf' ? tokenizerFromGguf(source.metadata) : tokenizerFromHf(source.tokenizerJson, source.tokenizerConfig);
}
