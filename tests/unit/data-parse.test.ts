import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError, parseDataset } from '../../src/data/parse.ts';

const dataUrl = (p: string) => new URL(`../../../shared/data/datasets/${p}`, import.meta.url);
const bytesOf = (p: string) => new Uint8Array(readFileSync(dataUrl(p)));
const textOf = (p: string) => readFileSync(dataUrl(p), 'utf8');
const enc = (s: string) => new TextEncoder().encode(s);

/** Independent RFC 4180 record counter (quotes double as escapes; CRLF or LF ends a record). */
function csvRecords(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (row.push(field), (field = ''));
    else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) (row.push(field), out.push(row));
  return out;
}

/** Catches the DataError a call throws. */
function refusal(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

describe('parseDataset on the real datasets', () => {
  it('SMS Spam Collection: 5,574 headerless rows, label column detected, 747 spam', () => {
    const lines = textOf('sms-spam/SMSSpamCollection.tsv').split('\n');
    const spam = lines.filter((l) => l.startsWith('spam\t')).length;
    expect(lines.length).toBe(5574);
    expect(spam).toBe(747);
    const d = parseDataset(bytesOf('sms-spam/SMSSpamCollection.tsv'), 'SMSSpamCollection.tsv');
    expect(d.format).toBe('tsv-headerless');
    expect(d.rows.length).toBe(5574);
    expect(d.outputColumn).toBe('column1');
    expect(d.rows.filter((r) => r.output === 'spam').length).toBe(747);
    expect(d.rows.filter((r) => r.output === 'ham').length).toBe(5574 - 747);
    // quotes are part of the text: the row equals the raw line after the tab (trimmed)
    const quoted = lines.findIndex((l) => l.split('\t')[1].startsWith('"'));
    expect(d.rows[quoted].input).toBe(lines[quoted].split('\t')[1].trim());
    expect(d.rows[quoted].line).toBe(quoted + 1);
    const kinds = d.warnings.map((w) => w.kind);
    expect(kinds).toContain('label-imbalance');
    expect(kinds).toContain('duplicates');
  });

  it('banking77: 10,003 rows, 77 categories equal to categories.json, quoted multi-line fields', () => {
    const records = csvRecords(textOf('banking77/train.csv'));
    expect(records.length - 1).toBe(10003);
    const d = parseDataset(bytesOf('banking77/train.csv'), 'train.csv');
    expect(d.format).toBe('csv');
    expect([d.inputColumn, d.outputColumn]).toEqual(['text', 'category']);
    expect(d.rows.length).toBe(10003);
    const categories = JSON.parse(textOf('banking77/categories.json')) as string[];
    expect(categories.length).toBe(77);
    expect(new Set(d.rows.map((r) => r.output))).toEqual(new Set(categories));
    records.slice(1).forEach((rec, i) => {
      expect(d.rows[i].input).toBe(rec[0].trim());
      expect(d.rows[i].output).toBe(rec[1]);
    });
    expect(d.warnings.some((w) => w.kind === 'empty-rows')).toBe(false); // the final CRLF is no row
  });

  it('sentiment labelled sentences: 1,000 rows each, label is the second column', () => {
    for (const f of ['amazon_cells_labelled.txt', 'imdb_labelled.txt']) {
      const lines = textOf(`sentiment-labelled-sentences/${f}`).split('\n').filter((l) => l.trim() !== '');
      const positives = lines.filter((l) => l.trimEnd().endsWith('\t1')).length;
      const d = parseDataset(bytesOf(`sentiment-labelled-sentences/${f}`), f);
      expect(d.rows.length).toBe(1000);
      expect(d.outputColumn).toBe('column2');
      expect(new Set(d.rows.map((r) => r.output))).toEqual(new Set(['0', '1']));
      expect(d.rows.filter((r) => r.output === '1').length).toBe(positives);
    }
  });

  it('Alpaca JSON: 1,000 rows, instruction and input joined by a blank line', () => {
    const raw = JSON.parse(textOf('alpaca-1k/alpaca_data_1k.json')) as { instruction: string; input: string; output: string }[];
    const d = parseDataset(bytesOf('alpaca-1k/alpaca_data_1k.json'), 'alpaca_data_1k.json');
    expect(d.format).toBe('json');
    expect(d.rows.length).toBe(1000);
    const withInput = raw.findIndex((r) => r.input.trim() !== '');
    const without = raw.findIndex((r) => r.input.trim() === '');
    expect(d.rows[withInput].input).toBe(`${raw[withInput].instruction.trim()}\n\n${raw[withInput].input.trim()}`);
    expect(d.rows[without].input).toBe(raw[without].instruction.trim());
    expect(d.rows[withInput].output).toBe(raw[withInput].output.trim());
    expect(d.warnings.some((w) => w.kind === 'label-imbalance')).toBe(false); // outputs are not labels
  });
});

describe('parseDataset on hand-written files', () => {
  it('reads CSV with a BOM, CRLF, quoted commas and newlines, no final newline', () => {
    const d = parseDataset(enc('\uFEFFPrompt,Completion\r\n"a, b",x\r\n"line1\r\nline2",y\r\nlast,z'), 'q.csv');
    expect(d.columns).toEqual(['Prompt', 'Completion']);
    expect(d.rows.map((r) => [r.input, r.output, r.line])).toEqual([
      ['a, b', 'x', 2],
      ['line1\r\nline2', 'y', 3],
      ['last', 'z', 5],
    ]);
  });

  it('uses the columns named in the options', () => {
    const csv = enc('id,body,tag\n1,hello,greet\n2,bye,leave\n');
    expect(refusal(() => parseDataset(csv, 'x.csv')).message).toMatch(/no input column found \(columns found: "id", "body", "tag".*--input-column/);
    const d = parseDataset(csv, 'x.csv', { inputColumn: 'body', outputColumn: 'tag' });
    expect(d.rows.map((r) => [r.input, r.output])).toEqual([['hello', 'greet'], ['bye', 'leave']]);
    expect(refusal(() => parseDataset(csv, 'x.csv', { inputColumn: 'nope', outputColumn: 'tag' })).message).toMatch(/no column "nope"/);
  });

  it('reads JSONL prompt/completion, text/label and chat messages', () => {
    const d = parseDataset(enc('{"prompt":"p1","completion":"c1"}\n\n{"prompt":"p2","completion":"c2"}\n'), 'a.jsonl');
    expect(d.rows.map((r) => [r.input, r.output, r.line])).toEqual([['p1', 'c1', 1], ['p2', 'c2', 3]]);
    expect(d.warnings.find((w) => w.kind === 'empty-rows')?.rows).toEqual([2]);
    const t = parseDataset(enc('[{"text":"good","label":1},{"text":"bad","label":0}]'), 'b.json');
    expect(t.rows.map((r) => [r.input, r.output])).toEqual([['good', '1'], ['bad', '0']]);
    const chat = '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}';
    const c = parseDataset(enc(chat), 'c.jsonl');
    expect(c.rows[0]).toEqual({
      input: 'Hi',
      output: 'Hello!',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
      line: 1,
    });
  });

  it('refuses an empty file, whitespace only, and bytes that are not UTF-8 (naming the line)', () => {
    expect(refusal(() => parseDataset(new Uint8Array(0), 'e.csv')).message).toMatch(/e\.csv: the file is empty/);
    expect(refusal(() => parseDataset(enc(' \n\n'), 'w.csv')).message).toMatch(/no data/);
    const latin1 = new Uint8Array([...enc('text,label\nok,1\ncaf'), 0xe9, ...enc(',0\n')]);
    const e = refusal(() => parseDataset(latin1, 'l.csv'));
    expect(e.row).toBe(3);
    expect(e.message).toMatch(/not UTF-8 text \(byte 0xe9 at offset 19\).*UTF-8/);
  });

  it('refuses malformed JSON with its line', () => {
    const jsonl = enc('{"prompt":"a","completion":"b"}\n{"prompt":"c","completion":"d"}\n{"prompt":"e", completion:"f"}\n');
    const e = refusal(() => parseDataset(jsonl, 'bad.jsonl'));
    expect(e.row).toBe(3);
    expect(e.message).toMatch(/line 3 is not valid JSON/);
    const arr = enc('[\n{"prompt":"a","completion":"b"},\n{"prompt":"c" "completion":"d"}\n]');
    expect(refusal(() => parseDataset(arr, 'bad.json')).row).toBe(3);
  });

  it('refuses a row without output, a missing column, and an unquoted extra field', () => {
    const e = refusal(() => parseDataset(enc('text,label\na,1\nb,\n'), 'm.csv'));
    expect([e.row, e.file]).toEqual([3, 'm.csv']);
    expect(e.message).toMatch(/no output \(column "label" is empty\)/);
    expect(refusal(() => parseDataset(enc('text,notes\na,1\n'), 'n.csv')).message).toMatch(/no output column found.*"text", "notes".*--output-column/);
    expect(refusal(() => parseDataset(enc('text,label\na, b,1\n'), 'f.csv')).message).toMatch(/3 fields but the header has 2/);
    expect(refusal(() => parseDataset(enc('a\tb\tc\nd\te\tf\n'), 'h.tsv')).message).toMatch(/columns found: "a", "b", "c"/);
    const ragged = refusal(() => parseDataset(enc('ham\thello\nspam\twin\textra\n'), 'r.tsv'));
    expect([ragged.row, ragged.message.includes('add a header row')]).toEqual([2, true]);
  });

  it('warns about empty rows and duplicates without refusing', () => {
    const d = parseDataset(enc('text,label\na,x\n,\nb,y\na,x\n'), 'w.csv');
    expect(d.rows.length).toBe(3);
    expect(d.warnings.find((w) => w.kind === 'empty-rows')).toMatchObject({ count: 1, rows: [3] });
    expect(d.warnings.find((w) => w.kind === 'duplicates')).toMatchObject({ count: 1, rows: [5] });
  });
});
