import { parameterCount } from '../../model/config.ts';
import { formatBytes } from '../../gpu/pool.ts';
import { adapterSummary, presetSettings } from '../adapter-settings.ts';
import { useStore } from '../store.ts';
import { HubToken } from './HubToken.tsx';
import { CURATED_MODELS, downloadBytes, type CuratedModel } from './curated.ts';

const millions = (n: number) => `${(n / 1e6).toFixed(0)}M parameters`;

/** Whether training this model with the current batch and length should fit this GPU. */
function useVerdict(m: CuratedModel): { fits: boolean; text: string; bytes: number } {
  const limits = useStore((s) => (s.gpu.status === 'ready' ? s.gpu.adapter : null));
  const { batchSize, seqLen } = useStore((s) => s.adapterSettings.training);
  const preset = useStore((s) => s.adapterSettings.preset);
  const settings = presetSettings(preset === 'custom' ? 'balanced' : preset, m.config, { batchSize, seqLen });
  const summary = adapterSummary(m.config, settings, limits, m.base);
  if (summary.verdict.fits) return { fits: true, text: 'fits this GPU', bytes: summary.memory.totalBytes };
  const smaller = CURATED_MODELS.filter((o) => parameterCount(o.config) < parameterCount(m.config)).map((o) => o.label);
  const tryThis = smaller.length > 0 ? `try ${smaller[0]}` : 'try a smaller batch size or sequence length in step 3';
  return { fits: false, text: `too big for this GPU, ${tryThis} (${summary.verdict.advice})`, bytes: summary.memory.totalBytes };
}

/** Downloads (or reads from the cache) and loads a curated model, quantizing it when it trains on a 4-bit base. */
async function loadCurated(download: (repo: string, files: string[]) => Promise<boolean>, m: CuratedModel): Promise<void> {
  if ((await download(m.id, m.files)) && m.base === '4bit') await useStore.getState().quantizeBase();
}

function CuratedRow({ m, cached }: { m: CuratedModel; cached: boolean }) {
  const busy = useStore((s) => s.modelProgress !== null);
  const current = useStore((s) => s.modelLoaded && s.modelName === m.id);
  const download = useStore((s) => s.downloadModel);
  const verdict = useVerdict(m);
  return (
    <li className="curated-model" data-testid="curated-model">
      <div>
        <strong>{m.label}</strong> <code className="hint">{m.id}</code>
        <p className="hint">
          {m.blurb} {millions(parameterCount(m.config))}; download ≈ {formatBytes(downloadBytes(m))}
          {cached ? ' (already in this browser)' : ''}.
        </p>
        <p className={verdict.fits ? 'ok' : 'warn'} data-testid="model-verdict">
          Training needs about {formatBytes(verdict.bytes)} of GPU memory: {verdict.text}.
        </p>
      </div>
      <button type="button" className={current ? 'secondary' : undefined} disabled={busy || current} onClick={() => void loadCurated(download, m)}>
        {current ? 'Loaded' : cached ? 'Load from this browser' : 'Download and load'}
      </button>
    </li>
  );
}

/** The curated Hub models, each with its size and whether it should fit this GPU, and the token field for gated ones. */
export function CuratedModels() {
  const entries = useStore((s) => s.cacheEntries);
  const isCached = (m: CuratedModel) => entries?.some((e) => e.key.startsWith(`${m.id}@`) && e.key.endsWith('/model.safetensors')) ?? false;
  return (
    <>
      <ul className="curated-list" aria-label="Models that train in a browser">
        {CURATED_MODELS.map((m) => (
          <CuratedRow key={m.id} m={m} cached={isCached(m)} />
        ))}
      </ul>
      <HubToken />
    </>
  );
}
