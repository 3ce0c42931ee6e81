import { useState } from 'react';
import { useStore } from '../store.ts';

/** A prompt of the person's own, answered by the base and the tuned model with the same seed and sampling. */
export function FreePrompt() {
  const [prompt, setPrompt] = useState('');
  const answer = useStore((s) => s.freeAnswer);
  const busy = useStore((s) => s.compareBusy);
  const ready = useStore((s) => s.adapterInfo !== null);
  return (
    <form
      className="free-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (prompt.trim()) void useStore.getState().askFree(prompt);
      }}
    >
      <div className="field">
        <label htmlFor="free-prompt">Your own prompt</label>
        <textarea id="free-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
      </div>
      <button type="submit" disabled={!ready || busy || !prompt.trim()}>
        Answer with both models
      </button>
      {answer ? (
        <div className="side-by-side" data-testid="free-answers">
          <div>
            <h4>Base model</h4>
            <p data-testid="free-base">{answer.base || <em className="hint">(nothing)</em>}</p>
          </div>
          <div>
            <h4>Tuned model</h4>
            <p data-testid="free-tuned">{answer.tuned || <em className="hint">(nothing)</em>}</p>
          </div>
        </div>
      ) : null}
    </form>
  );
}
