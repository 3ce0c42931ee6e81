import { Bar, BarChart, CartesianGrid, XAxis, YAxis } from 'recharts';
import type { LabelCount } from '../../data/report.ts';

const MAX_BARS = 20;

/** How many rows carry each label: a bar chart, and the same numbers as a table beside it. */
export function LabelChart({ labels, total }: { labels: LabelCount[]; total: number }) {
  const bars = labels.slice(0, MAX_BARS);
  return (
    <figure className="label-balance" data-testid="label-balance">
      <figcaption>Label balance (rows per output)</figcaption>
      <div className="label-balance-body">
        <div className="chart" aria-hidden="true" data-testid="label-chart">
          <BarChart width={420} height={Math.max(120, 34 * bars.length + 40)} data={bars} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }} accessibilityLayer={false}>
            <CartesianGrid horizontal={false} stroke="var(--border)" />
            <XAxis type="number" allowDecimals={false} tick={{ fill: 'currentColor' }} stroke="currentColor" />
            <YAxis type="category" dataKey="label" width={110} tick={{ fill: 'currentColor' }} stroke="currentColor" />
            <Bar dataKey="count" fill="currentColor" className="bar" isAnimationActive={false} />
          </BarChart>
        </div>
        <table className="facts-table">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Rows</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {labels.map((l) => (
              <tr key={l.label}>
                <th scope="row">{l.label}</th>
                <td>{l.count}</td>
                <td>{((100 * l.count) / total).toFixed(1)}%</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
