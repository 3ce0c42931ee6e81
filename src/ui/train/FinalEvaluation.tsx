import { labelVerdict, type LabelReport, type TextReport } from '../../eval/report.ts';
import { LABEL_RULE_SENTENCE } from '../../eval/rule.ts';
import type { FinalEvaluation as Evaluation } from '../../worker/protocol.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');
const right = (r: LabelReport) => r.confusion.reduce((a, row, k) => a + row[k], 0);

function Labels({ step, base, tuned }: { step: number; base: LabelReport; tuned: LabelReport }) {
  return (
    <>
      <p>
        On the {tuned.rows} held-out rows, the adapter of step {step} is right on <strong data-testid="train-accuracy">{right(tuned)} of {tuned.rows}</strong> ({pct(tuned.accuracy)}, macro-F1{' '}
        {Number.isFinite(tuned.macroF1) ? tuned.macroF1.toFixed(2) : '—'}); the base model on {right(base)} of {base.rows} ({pct(base.accuracy)}). Always answering “{tuned.majority.label}” would be right on{' '}
        {pct(tuned.majority.accuracy)}.
      </p>
      <p className={labelVerdict(base, tuned).learned ? 'ok' : 'warn'} data-testid="train-verdict">
        {labelVerdict(base, tuned).sentence}
      </p>
      <p className="hint">{LABEL_RULE_SENTENCE}</p>
    </>
  );
}

function Text({ step, base, tuned }: { step: number; base: TextReport; tuned: TextReport }) {
  return (
    <p>
      On {tuned.rows} held-out rows, answers of the adapter of step {step} against the expected ones: exact match <strong>{pct(tuned.exactMatch)}</strong>, token F1 {pct(tuned.tokenF1)},
      ROUGE-L {pct(tuned.rougeL)} (base model: {pct(base.exactMatch)}, {pct(base.tokenF1)}, {pct(base.rougeL)}). Greedy answers; Compare shows them row by row.
    </p>
  );
}

/** The kept adapter against the base model on the validation rows, by the rule Compare uses. */
export function FinalEvaluation({ evaluation }: { evaluation: Evaluation }) {
  const { step, base, tuned } = evaluation;
  return (
    <div className="note" data-testid="train-evaluation">
      {base.kind === 'labels' && tuned.kind === 'labels' ? <Labels step={step} base={base} tuned={tuned} /> : null}
      {base.kind === 'text' && tuned.kind === 'text' ? <Text step={step} base={base} tuned={tuned} /> : null}
    </div>
  );
}
