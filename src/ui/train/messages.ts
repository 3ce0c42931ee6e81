import type { EngineError } from '../../worker/client.ts';
import type { RunRecord } from './run-record.ts';

/** A failed run in plain words: what happened, what is kept, and what to try. */
export function explainTrainError(e: EngineError, record: RunRecord): string {
  const saved = record.checkpointStep !== null ? ` The run is saved at step ${record.checkpointStep}: reload the page and resume it.` : '';
  const o = record.options;
  switch (e.errorKind) {
    case 'device-lost':
      return `${e.message}${saved}`;
    case 'out-of-memory':
    case 'limits': {
      const tries = [
        o.batchSize > 1 ? `batch size ${Math.max(1, Math.floor(o.batchSize / 2))} (now ${o.batchSize})` : null,
        o.seqLen > 32 ? `sequence length ${Math.floor(o.seqLen / 2)} (now ${o.seqLen})` : null,
        o.adapter.rank > 1 ? `rank ${Math.max(1, Math.floor(o.adapter.rank / 2))} (now ${o.adapter.rank})` : null,
      ].filter(Boolean);
      return `The GPU ran out of memory for this run. Try ${tries.length ? tries.join(', or ') : 'a smaller model'} in step 3. (${e.message})`;
    }
    case 'no-model':
    case 'no-checkpoint':
    case 'busy':
      return e.message;
    default:
      return `Training stopped: ${e.message}${saved}`;
  }
}
