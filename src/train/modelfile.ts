/**
 * An ollama Modelfile for a merged GGUF model, with the prompt format the adapter was trained on
 * (src/data/prompt.ts), so `ollama create NAME -f Modelfile` answers as the studio does:
 *
 * - base models: TEMPLATE """{{ .Prompt }}\n### Answer:\n""", stop at the EOS token;
 * - models with a chat template: the template rendered for one user turn with the generation
 *   prompt, the user text replaced by {{ .Prompt }}; stop at the end-of-turn text and EOS.
 *
 * BOS is not written into the template: llama.cpp adds it when the GGUF says the tokenizer does
 * (tokenizer.ggml.add_bos_token), as training did. Literal `{{` in the text is escaped for Go templates.
 */
import { BASE_PROMPT_TEMPLATE } from '../data/prompt.ts';
import type { Tokenizer } from '../data/tokenizer.ts';

const SLOT = '\u0001PROMPT\u0001';

/** Text as a Go template literal part: `{{` and `}}` cannot appear raw. */
function goText(s: string): string {
  return s.replace(/\{\{|\}\}/g, (m) => `{{ "${m}" }}`);
}

export interface PromptFormat {
  /** The Go template ollama renders the user's prompt into. */
  template: string;
  /** Stop strings. */
  stops: string[];
}

/** The training prompt format as an ollama TEMPLATE and stop strings. */
export function ollamaPromptFormat(tokenizer: Tokenizer, useChatTemplate: boolean): PromptFormat {
  const eos = tokenizer.eosId === null ? null : (tokenizer.idToToken(tokenizer.eosId) ?? null);
  if (!useChatTemplate) {
    const [before, after] = BASE_PROMPT_TEMPLATE.split('{input}');
    return { template: `${goText(before)}{{ .Prompt }}${goText(after)}`, stops: eos ? [eos] : [] };
  }
  let rendered = tokenizer.applyChatTemplate([{ role: 'user', content: SLOT }], { addGenerationPrompt: true });
  const bos = tokenizer.bosId === null ? null : tokenizer.idToToken(tokenizer.bosId);
  if (tokenizer.addsBos && bos && rendered.startsWith(bos)) rendered = rendered.slice(bos.length);
  const at = rendered.indexOf(SLOT);
  if (at < 0) throw new Error('Modelfile: the chat template does not show the user message; export without a Modelfile or write the TEMPLATE by hand');
  const template = `${goText(rendered.slice(0, at))}{{ .Prompt }}${goText(rendered.slice(at + SLOT.length))}`;
  const stops = [tokenizer.chatEndOfTurn, eos].filter((s): s is string => !!s && s.trim() !== '');
  return { template, stops: [...new Set(stops)] };
}

/** The Modelfile text for `ggufFile` (a path relative to the Modelfile). */
export function modelfileText(ggufFile: string, format: PromptFormat): string {
  const lines = [`FROM ./${ggufFile}`, '', `TEMPLATE """${format.template}"""`, ''];
  for (const s of format.stops) lines.push(`PARAMETER stop ${JSON.stringify(s)}`);
  return `${lines.join('\n')}\n`;
}

/** The command that registers the model with ollama. */
export function ollamaCreateLine(name: string): string {
  return `ollama create ${name} -f Modelfile`;
}

/** An ollama model name from a file-name-ish string (lowercase letters, digits, - _ .). */
export function ollamaName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'tsugiki-model';
}
