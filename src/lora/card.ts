/**
 * The exported adapter as one download: the PEFT folder's files plus a README.md model card in
 * the Hub's format (YAML front matter with base_model and library_name: peft, then prose).
 */
import { zipFiles } from '../io/zip.ts';
import { labelVerdict, type EvalReport } from '../eval/report.ts';
import { LABEL_RULE_SENTENCE } from '../eval/rule.ts';
import { loraScale, type AdapterConfig } from './config.ts';

export interface AdapterCard {
  baseModel: string;
  revision?: string;
  adapter: AdapterConfig;
  trainableParams: number;
  /** How the base weights were held while training, e.g. `bf16`, or `quantized: Q4_K, Q6_K (4-bit base, quantized at load)`. */
  basePrecision?: string;
  data?: { file?: string; trainRows: number; validationRows: number };
  /** Training settings as shown to the user, e.g. { lr: 2e-4, epochs: 3, 'batch size': 8 }. */
  training?: Record<string, string | number | boolean>;
  /** Final metrics, e.g. { 'train loss': 0.41, 'validation loss': 0.52, accuracy: 0.93 }. */
  metrics?: Record<string, number>;
  /** The base model and this adapter on the validation rows (src/eval). */
  evaluation?: { step: number; base: EvalReport; tuned: EvalReport };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');

function textSection(step: number, base: EvalReport, tuned: EvalReport): string[] {
  if (base.kind !== 'text' || tuned.kind !== 'text') return [];
  return [
    '', '## Evaluation', '',
    `On ${tuned.rows} validation rows (never trained on), greedy answers of the adapter of step ${step} and of the base model against the expected answers, after SQuAD's normalisation (lowercase, no punctuation, no articles).`,
    '',
    '| | base model | this adapter |', '| --- | --- | --- |',
    `| exact match | ${pct(base.exactMatch)} | ${pct(tuned.exactMatch)} |`,
    `| token F1 | ${pct(base.tokenF1)} | ${pct(tuned.tokenF1)} |`,
    `| ROUGE-L | ${pct(base.rougeL)} | ${pct(tuned.rougeL)} |`,
  ];
}

function evaluationSection(e: NonNullable<AdapterCard['evaluation']>): string[] {
  const { base, tuned } = e;
  if (base.kind === 'text' || tuned.kind === 'text') return textSection(e.step, base, tuned);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '', '## Evaluation', '',
    `On the ${tuned.rows} validation rows (never trained on), the adapter of step ${e.step} against the base model. ${LABEL_RULE_SENTENCE}`,
    '',
    '| | base model | this adapter |', '| --- | --- | --- |',
    `| accuracy | ${pct(base.accuracy)} | ${pct(tuned.accuracy)} |`,
    `| macro-F1 | ${pct(base.macroF1)} | ${pct(tuned.macroF1)} |`,
    `| always answering '${cell(tuned.majority.label)}' | ${pct(tuned.majority.accuracy)} | ${pct(tuned.majority.accuracy)} |`,
    '',
    labelVerdict(base, tuned).sentence,
    '',
    'Confusion matrix of this adapter (rows: true label, columns: predicted label):',
    '',
    `| | ${tuned.labels.map(cell).join(' | ')} |`,
    `| --- | ${tuned.labels.map(() => '---').join(' | ')} |`,
    ...tuned.confusion.map((row, t) => `| ${cell(tuned.labels[t])} | ${row.join(' | ')} |`),
  ];
}

const yamlString = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar

function fmt(v: string | number | boolean): string {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const short = Number(v.toPrecision(4));
  return Math.abs(v) < 1e-3 ? short.toExponential() : String(short);
}

function table(rows: [string, string | number | boolean][]): string[] {
  return ['| setting | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${fmt(v)} |`)];
}

export function adapterCardMarkdown(card: AdapterCard): string {
  const a = card.adapter;
  const lines = [
    '---',
    `base_model: ${yamlString(card.baseModel)}`,
    'library_name: peft',
    'pipeline_tag: text-generation',
    'tags:',
    '- lora',
    '- tsugiki',
    '---',
    '',
    `# LoRA adapter for ${card.baseModel}`,
    '',
    `Trained in the browser with tsugiki. Base model: \`${card.baseModel}\`${card.revision ? ` (revision \`${card.revision}\`)` : ''}.`,
    '',
    '## Adapter',
    '',
    ...table([
      ['rank (r)', a.rank],
      ['alpha', a.alpha],
      ['scale', loraScale(a)],
      ['rsLoRA', a.rslora],
      ['dropout', a.dropout],
      ['target modules', a.targets === 'all-linear' ? 'all-linear' : a.targets.join(', ')],
      ['layers', a.layers === null ? 'all' : a.layers.join(', ')],
      ['trainable parameters', card.trainableParams],
      ...(card.basePrecision ? [['base precision while training', card.basePrecision] as [string, string]] : []),
    ]),
  ];
  if (card.data) {
    const d = card.data;
    lines.push('', '## Data', '', ...table([
      ...(d.file ? [['file', d.file] as [string, string]] : []),
      ['training rows', d.trainRows],
      ['validation rows', d.validationRows],
    ]));
  }
  if (card.training && Object.keys(card.training).length > 0) lines.push('', '## Training', '', ...table(Object.entries(card.training)));
  if (card.metrics && Object.keys(card.metrics).length > 0) {
    lines.push('', '## Results', '', '| metric | value |', '| --- | --- |', ...Object.entries(card.metrics).map(([k, v]) => `| ${k} | ${fmt(v)} |`));
  }
  if (card.evaluation) lines.push(...evaluationSection(card.evaluation));
  lines.push(
    '',
    '## Use',
    '',
    '```python',
    'from peft import PeftModel',
    'from transformers import AutoModelForCausalLM',
    '',
    `base = AutoModelForCausalLM.from_pretrained(${JSON.stringify(card.baseModel)})`,
    'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
    '```',
    '',
  );
  return lines.join('\n');
}

/** A zip of the adapter folder's files plus the README.md card (which replaces any README.md among the files). */
export function adapterZip(files: Record<string, Uint8Array>, card: AdapterCard): Uint8Array {
  return zipFiles({ ...files, 'README.md': new TextEncoder().encode(adapterCardMarkdown(card)) });
}
