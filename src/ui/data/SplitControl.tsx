import { useStore } from '../store.ts';

/** The share of rows held out for validation, with the counts it gives, and the shuffle seed. */
export function SplitControl({ train, val }: { train: number; val: number }) {
  const percent = useStore((s) => s.valPercent);
  const seed = useStore((s) => s.splitSeed);
  const setValPercent = useStore((s) => s.setValPercent);
  const setSplitSeed = useStore((s) => s.setSplitSeed);
  const counts = `${train} training rows, ${val} validation rows`;
  return (
    <div className="split">
      <div className="field">
        <label htmlFor="val-split">Rows held out to check learning (validation split): {percent}%</label>
        <input
          id="val-split"
          type="range"
          min={0}
          max={50}
          step={1}
          value={percent}
          aria-valuetext={`${percent}%: ${counts}`}
          onChange={(e) => setValPercent(Number(e.target.value))}
        />
        <output htmlFor="val-split" data-testid="split-counts">
          {counts}
        </output>
      </div>
      <div className="field narrow">
        <label htmlFor="split-seed">Shuffle seed (same seed, same split)</label>
        <input id="split-seed" type="number" step={1} value={seed} onChange={(e) => setSplitSeed(Number(e.target.value))} />
      </div>
    </div>
  );
}
