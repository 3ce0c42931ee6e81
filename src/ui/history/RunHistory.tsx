import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EvalReport } from '../../eval/report.ts';
import { formatBytes } from '../../gpu/pool.ts';
import { MAX_OVERLAID } from '../state/historySlice.ts';
import { useStore } from '../store.ts';
import type { HistoryRun } from './run-history.ts';

const COLORS = ['#1f6b45', '#b5651d', '#3a5da8', '#8a3b8f'];
const pct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');

function scores(tuned: EvalReport, base: EvalReport): string {
  if (tuned.kind === 'labels' && base.kind === 'labels') return `accuracy ${pct(tuned.accuracy)} (base ${pct(base.accuracy)}) on ${tuned.rows} rows`;
  if (tuned.kind === 'text' && base.kind === 'text') return `token F1 ${pct(tuned.tokenF1)}, ROUGE-L ${pct(tuned.rougeL)} (base ${pct(base.tokenF1)}, ${pct(base.rougeL)}) on ${tuned.rows} rows`;
  return '';
}

/** Runs are numbered in the order they ran (#1 the oldest); the list shows the newest first. */
const runNumber = (all: HistoryRun[], r: HistoryRun) => all.length - all.indexOf(r);

function runLabel(r: HistoryRun, all: HistoryRun[]): string {
  return `#${runNumber(all, r)} ${r.dataFile}, r${r.options.adapter.rank}, lr ${r.options.lr}`;
}

/** The training loss of 2–4 runs on one chart (step on the x axis). */
function Overlay({ runs, all }: { runs: HistoryRun[]; all: HistoryRun[] }) {
  const byStep = new Map<number, Record<string, number>>();
  for (const r of runs) for (const [step, loss] of r.losses) byStep.set(step, { ...(byStep.get(step) ?? { step }), [r.id]: loss });
  const data = [...byStep.values()].sort((a, b) => a.step - b.step);
  return (
    <figure className="chart" data-testid="history-overlay" data-runs={runs.length}>
      <figcaption>Training loss of the ticked runs</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={data} margin={{ top: 5, right: 16, bottom: 5, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} />
          <YAxis width={56} domain={['auto', 'auto']} />
          <Tooltip />
          <Legend />
          {runs.map((r, i) => (
            <Line key={r.id} type="monotone" dataKey={r.id} name={runLabel(r, all)} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Every run of this browser: settings, result, curves; overlay, open, download or delete. */
export function RunHistory() {
  const runs = useStore((s) => s.historyRuns);
  const overlaid = useStore((s) => s.overlaid);
  const problem = useStore((s) => s.historyProblem);
  const opened = useStore((s) => s.openedRun);
  const busy = useStore((s) => s.trainStatus === 'running' || s.trainStatus === 'stopping' || s.compareBusy);
  const { toggleOverlay, openRun, downloadRun, removeRun } = useStore.getState();
  if (runs.length === 0 && !problem) return null;
  const shown = runs.filter((r) => overlaid.includes(r.id));
  return (
    <section className="run-history" aria-labelledby="run-history-title" data-testid="run-history">
      <h3 id="run-history-title">Run history (kept in this browser)</h3>
      {problem ? (
        <p role="alert" className="alert" data-testid="history-problem">
          {problem}
        </p>
      ) : null}
      <div className="table-scroll">
        <table className="preview">
          <thead>
            <tr>
              <th scope="col">Overlay</th>
              <th scope="col">Run</th>
              <th scope="col">Settings</th>
              <th scope="col">Result</th>
              <th scope="col">Adapter</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-testid="history-run" data-points={r.losses.length}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Overlay run ${runNumber(runs, r)}`}
                    checked={overlaid.includes(r.id)}
                    disabled={!overlaid.includes(r.id) && overlaid.length >= MAX_OVERLAID}
                    onChange={() => toggleOverlay(r.id)}
                  />
                </td>
                <td>
                  #{runNumber(runs, r)} {r.dataFile} on {r.modelName}
                  <br />
                  <span className="hint">
                    {new Date(r.endedAt).toLocaleString()} · data {r.dataFingerprint}
                  </span>
                </td>
                <td>
                  rank {r.options.adapter.rank}, lr {r.options.lr}, batch {r.options.batchSize}, {r.steps} of {r.totalSteps} steps ({r.status})
                </td>
                <td data-testid="history-result">
                  {r.finalLoss !== null ? `loss ${r.finalLoss.toFixed(3)}` : ''}
                  {r.valLoss !== null ? `, validation ${r.valLoss.toFixed(3)}` : ''}
                  {r.evaluation ? `; ${scores(r.evaluation.tuned, r.evaluation.base)}` : ''}
                </td>
                <td>
                  <div className="button-row">
                    <button type="button" className="secondary" disabled={busy} onClick={() => void openRun(r.id)}>
                      {opened === r.id ? 'Opened' : 'Open to compare or export'}
                    </button>
                    <button type="button" className="secondary" onClick={() => void downloadRun(r.id)}>
                      Download ({formatBytes(r.adapterBytes)})
                    </button>
                    <button type="button" className="secondary" onClick={() => void removeRun(r.id)}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown.length > 0 ? <Overlay runs={shown} all={runs} /> : <p className="hint">Tick 2 to {MAX_OVERLAID} runs to overlay their loss curves.</p>}
    </section>
  );
}
