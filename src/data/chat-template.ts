import { Template } from '@huggingface/jinja';
import type { ChatMessage } from './tokenizer.ts';

export interface ChatTemplateContext {
  bosToken: string;
  eosToken: string;
  /** Special-token strings of the vocabulary, to find where an assistant turn ends. */
  specialTokens: string[];
}

/** A parsed chat template with the variables Hugging Face passes to it. */
export class ChatTemplate {
  readonly source: string;
  private template: Template;
  private ctx: ChatTemplateContext;

  constructor(source: string, ctx: ChatTemplateContext) {
    this.source = source;
    this.ctx = ctx;
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new Error(
        `the model's chat template could not be parsed (${(e as Error).message}); ` +
          'train without the chat template (base-model prompt format) instead',
      );
    }
  }

  /**
   * The conversation as the template writes it. `enable_thinking: false` (read by Qwen3's
   * template only): the reply follows an empty thinking block, which is how Qwen3's template writes
   * a final assistant turn in training data and how its non-thinking mode prompts, so a tuned
   * answer is trained and generated in the same place.
   */
  render(messages: ChatMessage[], addGenerationPrompt: boolean): string {
    return this.template.render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.ctx.bosToken,
      eos_token: this.ctx.eosToken,
      enable_thinking: false,
    });
  }

  /**
   * The text the template writes right after an assistant reply, up to and including the first
   * special token there (Qwen `<|im_end|>`, Llama 3 `<|eot_id|>`, Zephyr `</s>`); the EOS string
   * when the template writes no special token after the reply.
   */
  endOfTurn(): string {
    const marker = '\u0000REPLY\u0000';
    let text: string;
    try {
      text = this.render(
        [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: marker },
        ],
        false,
      );
    } catch {
      // templates that insist on a system turn or other roles: fall back to EOS
      return this.ctx.eosToken;
    }
    const at = text.indexOf(marker);
    if (at < 0) return this.ctx.eosToken;
    const after = text.slice(at + marker.length);
    let best = -1;
    let bestToken = '';
    for (const tok of this.ctx.specialTokens) {
      if (!tok) continue;
      const i = after.indexOf(tok);
      if (i >= 0 && (best < 0 || i < best || (i === best && tok.length > bestToken.length))) {
        best = i;
        bestToken = tok;
      }
    }
    return best < 0 ? this.ctx.eosToken : after.slice(0, best + bestToken.length);
  }
}

/** The error a tokenizer without a template throws from applyChatTemplate. */
export function noChatTemplateError(): Error {
  return new Error(
    'this model has no chat template (tokenizer_config.json "chat_template" or GGUF ' +
      '"tokenizer.chat_template"); use the base-model prompt format instead',
  );
}
