import { adapterName, type Gpu } from '../src/gpu/device.ts';
import { caseData, caseFlops, oursImpl, type BenchShape, type CaseKind, type Impl } from './kernels.ts';
import { measurePeak } from './peak.ts';
import { tfjsImpl, tfjsOn } from './tfjs.ts';
import { gflops, timePerIteration, type TimingOptions } from './timing.ts';

export interface BenchOptions {
  /** Rows M = B·T of every case. */
  rows: number;
  /** Layer widths C (K = N = C). */
  sizes: number[];
  /** LoRA ranks R. */
  ranks: number[];
  timing: TimingOptions;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface BenchCase {
  name: string;
  shape: { M: number; K: number; N: number; R?: number };
  gflops: number;
  tfjs_gflops: number;
  vs_tfjs: number;
  vs_peak: number;
  /** Largest |ours − tfjs| / (|tfjs| + 1e-2·max|tfjs|) over every output: the two agree when small. */
  max_rel_diff: number;
}

export interface BenchReport {
  adapter: string;
  peak_gflops: number;
  cases: BenchCase[];
}

/** Outputs of both implementations after one run from the same inputs, compared elementwise. */
async function agreement(ours: Impl, peer: Impl): Promise<number> {
  ours.step();
  await ours.drain();
  const a = await ours.outputs();
  const b = await peer.outputs();
  let worst = 0;
  for (const [name, ref] of Object.entries(b)) {
    const got = a[name];
    if (!got || got.length !== ref.length) throw new Error(`benchmark: output '${name}' differs in length between tsugiki and tfjs.`);
    const floor = 1e-2 * ref.reduce((mx, v) => Math.max(mx, Math.abs(v)), 0) + 1e-30;
    for (let i = 0; i < ref.length; i++) {
      const e = Math.abs(got[i] - ref[i]) / (Math.abs(ref[i]) + floor);
      worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
    }
  }
  return worst;
}

function cases(o: BenchOptions): { kind: CaseKind; shape: BenchShape }[] {
  const out: { kind: CaseKind; shape: BenchShape }[] = [];
  for (const c of o.sizes) {
    out.push({ kind: 'matmul', shape: { m: o.rows, c, r: o.ranks[0] } });
    for (const r of o.ranks) out.push({ kind: 'lora', shape: { m: o.rows, c, r } });
  }
  return out;
}

/** Measures the FMA peak, then each case with tsugiki's kernels and with tfjs on the same device. */
export async function runBench(gpu: Gpu, o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const tf = await tfjsOn(gpu);
  log('measuring the FMA peak…');
  const peak = await measurePeak(gpu, o.timing);
  const report: BenchReport = { adapter: adapterName(gpu.adapter), peak_gflops: peak, cases: [] };
  for (const { kind, shape } of cases(o)) {
    const { m, c, r } = shape;
    const name = kind === 'matmul' ? 'matmul x·Wᵀ' : `lora fwd+bwd r=${r}`;
    log(`${name} M=${m} C=${c}…`);
    const data = caseData(shape);
    const ours = oursImpl(gpu, kind, shape, data);
    const peer = tfjsImpl(tf, gpu, kind, shape, data);
    try {
      const diff = await agreement(ours, peer);
      const flops = caseFlops(kind, shape);
      const mine = gflops(flops, await timePerIteration(ours.step, ours.drain, o.timing));
      const theirs = gflops(flops, await timePerIteration(peer.step, peer.drain, o.timing));
      report.cases.push({
        name,
        shape: kind === 'matmul' ? { M: m, K: c, N: c } : { M: m, K: c, N: c, R: r },
        gflops: mine,
        tfjs_gflops: theirs,
        vs_tfjs: mine / theirs,
        vs_peak: mine / peak,
        max_rel_diff: diff,
      });
    } finally {
      ours.dispose();
      peer.dispose();
    }
  }
  return report;
}

/** The report as an aligned text table. */
export function formatReport(r: BenchReport): string {
  const head = ['case', 'M', 'K', 'N', 'R', 'GFLOP/s', 'tfjs GFLOP/s', 'vs tfjs', 'vs peak', 'max rel diff'];
  const rows = r.cases.map((c) => [
    c.name, String(c.shape.M), String(c.shape.K), String(c.shape.N), c.shape.R === undefined ? '-' : String(c.shape.R),
    c.gflops.toFixed(2), c.tfjs_gflops.toFixed(2), `${c.vs_tfjs.toFixed(2)}×`, c.vs_peak.toFixed(3), c.max_rel_diff.toExponential(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [`adapter: ${r.adapter}`, `FMA peak: ${r.peak_gflops.toFixed(2)} GFLOP/s`, '', line(head), ...rows.map(line), ''].join('\n');
}
