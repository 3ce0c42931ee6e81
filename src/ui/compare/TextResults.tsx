import { answerTokens, lcsMarks } from '../../eval/metrics.ts';
import type { TextReport } from '../../eval/report.ts';
import { pct } from './LabelResults.tsx';

/** Free-text answers against the expected one: exact match, token F1, ROUGE-L for both models. */
export function TextResults({ base, tuned, source }: { base: TextReport; tuned: TextReport; source: string }) {
  return (
    <div className="text-results">
      <p data-testid="compare-text-scores">
        On {source} ({tuned.rows} rows), against the expected answers: tuned model exact match <strong>{pct(tuned.exactMatch)}</strong>, token F1 {pct(tuned.tokenF1)}, ROUGE-L{' '}
        {pct(tuned.rougeL)}; base model exact match {pct(base.exactMatch)}, token F1 {pct(base.tokenF1)}, ROUGE-L {pct(base.rougeL)}.
      </p>
      <p className="hint">
        Answers are compared after lowercasing and dropping punctuation and the words a, an, the. Token F1 counts shared words; ROUGE-L the longest run of words in the same order. Words
        marked <mark>like this</mark> are not in the expected answer.
      </p>
    </div>
  );
}

/** The answer with the words outside its longest common subsequence with the expected answer marked. */
export function MarkedAnswer({ text, expected }: { text: string | null; expected: string }) {
  if (text === null) return <em className="hint">(not written)</em>;
  if (!text) return <em className="hint">(nothing)</em>;
  const words = text.split(/\s+/).filter(Boolean);
  const norm = words.map((w) => answerTokens(w).join(' '));
  const marks = lcsMarks(norm, answerTokens(expected));
  return (
    <span className="cell">
      {words.map((w, i) => (
        <span key={i}>
          {i > 0 ? ' ' : ''}
          {marks[i] || norm[i] === '' ? w : <mark>{w}</mark>}
        </span>
      ))}
    </span>
  );
}
