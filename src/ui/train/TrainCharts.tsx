import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EvalPoint, StepPoint } from './live.ts';
import { useLiveSnapshot } from './useLive.ts';

interface Series {
  steps: StepPoint[];
  evals: EvalPoint[];
}

/** Copies of the arrays, so recharts sees new data on each refresh. */
const snapshot = (s: Series): Series => ({ steps: s.steps.slice(), evals: s.evals.slice() });

function Chart({ title, testId, children, data }: { title: string; testId: string; children: React.ReactNode; data: object[] }) {
  return (
    <figure className="chart" data-testid={testId} data-points={data.length}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={data} margin={{ top: 5, right: 16, bottom: 5, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} />
          <YAxis width={56} domain={['auto', 'auto']} tickFormatter={(v: number) => (Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(0) : String(Number(v.toPrecision(3))))} />
          <Tooltip />
          <Legend />
          {children}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Loss (training and validation), learning rate and gradient norm, redrawn a few times a second. */
export function TrainCharts() {
  const { steps, evals } = useLiveSnapshot((s) => snapshot(s), 300);
  const byStep = new Map<number, { step: number; loss?: number; valLoss?: number }>();
  for (const p of steps) byStep.set(p.step, { step: p.step, loss: p.loss });
  for (const e of evals) byStep.set(e.step, { ...(byStep.get(e.step) ?? { step: e.step }), valLoss: e.valLoss });
  const losses = [...byStep.values()].sort((a, b) => a.step - b.step);
  return (
    <div className="charts">
      <Chart title="Loss: how wrong the model still is (lower is better)" testId="loss-chart" data={losses}>
        <Line type="monotone" dataKey="loss" name="training" stroke="#1f6b45" dot={false} isAnimationActive={false} connectNulls />
        <Line type="monotone" dataKey="valLoss" name="validation" stroke="#b5651d" dot isAnimationActive={false} connectNulls />
      </Chart>
      <Chart title="Learning rate" testId="lr-chart" data={steps}>
        <Line type="monotone" dataKey="lr" name="learning rate" stroke="#3a5da8" dot={false} isAnimationActive={false} />
      </Chart>
      <Chart title="Gradient norm (before clipping)" testId="grad-chart" data={steps}>
        <Line type="monotone" dataKey="gradNorm" name="gradient norm" stroke="#8a3b8f" dot={false} isAnimationActive={false} />
      </Chart>
    </div>
  );
}
