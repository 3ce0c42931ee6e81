import { formatBytes } from '../../gpu/pool.ts';
import { useStore } from '../store.ts';

/** The download or load in progress: which file, and how much of it has arrived. */
export function ModelProgressBar() {
  const p = useStore((s) => s.modelProgress);
  if (!p) return null;
  const label = p.file
    ? `${p.file}: ${formatBytes(p.loaded)}${p.total > 0 ? ` of ${formatBytes(p.total)}` : ''}`
    : `Reading ${p.source} and checking its weights…`;
  return (
    <div className="model-progress" data-testid="model-progress" aria-live="polite">
      <p>
        Loading <strong>{p.source}</strong>
      </p>
      <progress max={p.file && p.total > 0 ? p.total : undefined} value={p.file && p.total > 0 ? p.loaded : undefined} aria-label={label} />
      <p className="hint">{label}</p>
    </div>
  );
}

const HUB = 'https://huggingface.co';

/** What to do in the studio when the Hub refused access (HTTP 401/403, the HubError kind 'auth'). */
function AuthAdvice({ repo, tokenSent }: { repo: string; tokenSent: boolean }) {
  const page = (
    <a href={`${HUB}/${repo}`} target="_blank" rel="noreferrer noopener">
      the model's Hub page
    </a>
  );
  const settings = (
    <a href={`${HUB}/settings/tokens`} target="_blank" rel="noreferrer noopener">
      your Hugging Face settings
    </a>
  );
  return tokenSent ? (
    <p data-testid="model-auth-advice">
      Hugging Face refused the access token for this model. Check that you accepted the licence on {page} with the same account, that the token is a read token from {settings}, and that it was pasted whole in the access token field above; then load again.
    </p>
  ) : (
    <p data-testid="model-auth-advice">
      Hugging Face needs permission for this model: it is gated or private (the Hub answers the same for a model that does not exist). To use it, accept the licence on {page}, create a read token in {settings}, paste it in the access token field above, and load again.
    </p>
  );
}

/** Why the last model could not be loaded; the model loaded before (if any) is still in use. */
export function ModelAlert() {
  const problem = useStore((s) => s.modelProblem);
  const name = useStore((s) => (s.modelSummary ? s.modelSummary.name : null));
  if (!problem) return null;
  return (
    <div role="alert" className="alert" data-testid="model-alert">
      <p className="alert-title">{problem.source} could not be loaded</p>
      {problem.kind === 'auth' ? <AuthAdvice repo={problem.source} tokenSent={problem.tokenSent} /> : <p>{problem.message}</p>}
      {name ? (
        <p className="hint">
          Still using <strong>{name}</strong>.
        </p>
      ) : null}
    </div>
  );
}

/** The loaded model in numbers: what it is, how big, and what LoRA can adapt in it. */
export function ModelFacts() {
  const m = useStore((s) => s.modelSummary);
  if (!m) return null;
  const c = m.config;
  return (
    <div className="model-facts" data-testid="model-facts">
      <h3>Loaded model</h3>
      <dl className="facts">
        <dt>Name</dt>
        <dd data-testid="model-loaded-name">{m.name}</dd>
        <dt>Architecture</dt>
        <dd data-testid="model-arch">
          {c.hfModelType} ({c.arch}), {c.layers} layers, hidden size {c.hidden}, {c.heads} heads ({c.kvHeads} key/value), vocabulary {c.vocabSize.toLocaleString('en-US')}
        </dd>
        <dt>Parameters</dt>
        <dd data-testid="model-params">{m.params.toLocaleString('en-US')}</dd>
        <dt>Weights</dt>
        <dd data-testid="model-weights">
          {m.precision}, {formatBytes(m.weightBytes)} on the GPU (files: {formatBytes(m.fileBytes)}, {m.format === 'gguf' ? 'GGUF' : 'safetensors'})
        </dd>
        <dt>Parts LoRA can adapt</dt>
        <dd data-testid="model-targets">{m.loraTargets.join(', ')}</dd>
        <dt>Prompt format</dt>
        <dd>{useStore.getState().useChatTemplate ? "the model's chat template" : 'plain text ("input ### Answer:")'}</dd>
      </dl>
      <BaseQuantControl />
    </div>
  );
}

/** Bytes of a Q4_K weight against f16/bf16/f32 (4.5 bits per weight). */
const Q4_K_BITS = 4.5;

/**
 * The 4-bit base for a full-precision Llama-family model: its weights quantized at load (Q4_K,
 * or a wider format where the measured error calls for it), and what that saves on the GPU.
 */
function BaseQuantControl() {
  const m = useStore((s) => s.modelSummary);
  const busy = useStore((s) => s.modelProgress !== null);
  if (!m) return null;
  if (m.baseQuant) {
    const q = m.baseQuant;
    const types = Object.entries(q.types).map(([t, n]) => `${n} ${t}`).join(', ');
    return (
      <p className="hint" data-testid="base-quant-done">
        4-bit base: the frozen weights take {formatBytes(q.bytesAfter)} on the GPU instead of {formatBytes(q.bytesBefore)} (saves {formatBytes(q.bytesBefore - q.bytesAfter)}; {types}). LoRA trains in full precision on top; exports state the base precision.
      </p>
    );
  }
  if (m.precision.startsWith('quantized')) return null;
  const bits = m.dtype === 'f32' ? 32 : 16;
  const estimate = m.weightBytes * (1 - Q4_K_BITS / bits);
  return (
    <p className="hint">
      <button type="button" data-testid="base-quant" disabled={busy} onClick={() => void useStore.getState().quantizeBase()}>
        Use a 4-bit base
      </button>{' '}
      Quantizes the frozen weights now (QLoRA): about {formatBytes(estimate)} less GPU memory, for a small loss in the base model's accuracy.
    </p>
  );
}
