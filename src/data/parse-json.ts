import { chooseColumns, inputOf } from './columns.ts';
import { DataError } from './errors.ts';
import type { ParseOptions } from './dataset.ts';
import type { ChatMessage } from './tokenizer.ts';

export interface JsonItem {
  input: string;
  output: string;
  messages?: ChatMessage[];
  line: number;
}

export interface JsonResult {
  columns: string[];
  inputColumn: string;
  outputColumn: string;
  items: JsonItem[];
  /** Records that were blank lines (JSONL) or empty objects. */
  emptyLines: number[];
}

/** 1-based line of a character offset. */
function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The line of a JSON.parse error, from the "position N" or "line N" its message gives. */
function errorLine(text: string, e: Error): number | null {
  const ln = /line (\d+)/.exec(e.message);
  if (ln) return Number(ln[1]);
  const pos = /position (\d+)/.exec(e.message);
  return pos ? lineAt(text, Number(pos[1])) : null;
}

const asText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
};

/** JSON Lines: one object per line; blank lines are skipped. */
export function readJsonl(text: string, file: string): { records: unknown[]; lines: number[]; emptyLines: number[] } {
  const records: unknown[] = [];
  const lines: number[] = [];
  const emptyLines: number[] = [];
  const all = text.split('\n');
  // a final line break does not make an empty row
  if (all.length > 1 && all[all.length - 1] === '') all.pop();
  all.forEach((raw, i) => {
    const l = raw.trim();
    if (l === '') {
      emptyLines.push(i + 1);
      return;
    }
    try {
      records.push(JSON.parse(l));
    } catch (e) {
      throw new DataError(file, i + 1, `line ${i + 1} is not valid JSON (${(e as Error).message}); fix that line (each line must be one JSON object)`);
    }
    lines.push(i + 1);
  });
  return { records, lines, emptyLines };
}

/** A JSON document: an array of records, or an object holding exactly one array of records. */
export function readJsonArray(text: string, file: string): { records: unknown[]; lines: number[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const line = errorLine(text, e as Error);
    throw new DataError(file, line, `the file is not valid JSON${line ? ` at line ${line}` : ''} (${(e as Error).message}); fix the syntax there`);
  }
  if (!Array.isArray(doc) && doc && typeof doc === 'object') {
    const arrays = Object.values(doc).filter(Array.isArray);
    if (arrays.length === 1) doc = arrays[0];
  }
  if (!Array.isArray(doc)) {
    throw new DataError(file, null, 'the JSON file must hold an array of records like [{"prompt": "...", "completion": "..."}, ...]');
  }
  // records are numbered as the user counts them: 1 = the first element
  return { records: doc, lines: doc.map((_, i) => i + 1) };
}

function chatItem(rec: Record<string, unknown>, line: number, file: string): JsonItem {
  const raw = rec.messages;
  if (!Array.isArray(raw)) throw new DataError(file, line, '"messages" must be an array of {"role", "content"} objects');
  const messages: ChatMessage[] = raw.map((m) => {
    const o = (m ?? {}) as Record<string, unknown>;
    if (typeof o.role !== 'string') throw new DataError(file, line, 'every message needs a "role" ("system", "user" or "assistant")');
    return { role: o.role, content: asText(o.content) };
  });
  let last = messages.length - 1;
  while (last >= 0 && messages[last].role !== 'assistant') last--;
  if (last < 0) throw new DataError(file, line, 'the conversation has no assistant message; add the reply to learn as the last "assistant" message');
  const context = messages.slice(0, last);
  const lastUser = [...context].reverse().find((m) => m.role === 'user');
  return { input: lastUser?.content ?? '', output: messages[last].content, messages: context, line };
}

/** Turns JSON records into items: chat (`messages`), Alpaca, prompt/completion, text/label, or named columns. */
export function jsonItems(records: unknown[], lines: number[], file: string, opts: ParseOptions): JsonResult {
  const columns: string[] = [];
  const seen = new Set<string>();
  const emptyLines: number[] = [];
  const objects: { rec: Record<string, unknown>; line: number }[] = [];
  records.forEach((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      throw new DataError(file, lines[i], 'each record must be a JSON object like {"prompt": "...", "completion": "..."}');
    }
    const rec = r as Record<string, unknown>;
    if (Object.keys(rec).length === 0) {
      emptyLines.push(lines[i]);
      return;
    }
    for (const k of Object.keys(rec)) if (!seen.has(k)) (seen.add(k), columns.push(k));
    objects.push({ rec, line: lines[i] });
  });
  if (objects.length === 0) throw new DataError(file, null, 'the file has no records');
  if (seen.has('messages') && opts.inputColumn === undefined) {
    return { columns, inputColumn: 'messages', outputColumn: 'messages', emptyLines, items: objects.map((o) => chatItem(o.rec, o.line, file)) };
  }
  const choice = chooseColumns(columns, opts, file);
  const items = objects.map(({ rec, line }) => {
    const get = (c: string) => asText(rec[c]);
    return { input: inputOf(choice, get), output: get(choice.output), line };
  });
  return { columns, inputColumn: choice.input, outputColumn: choice.output, items, emptyLines };
}
