import { adapterName, type Gpu } from '../src/gpu/device.ts';
import { DECODE_TYPES, runDecodeCase, type DecodeCase, type DecodeType } from './decode.ts';
import { caseData, caseFlops, oursImpl, type BenchShape, type CaseKind, type Impl } from './kernels.ts';
import { measureReadBandwidth, peakProbe } from './peak.ts';
import { jaxjsImpl, jaxjsOn } from './jaxjs.ts';
import { tfjsImpl, tfjsOn } from './tfjs.ts';
import { gflops, timeInTurn, type TimingOptions } from './timing.ts';

export interface BenchOptions {
  /** Rows M = B·T of every case. */
  rows: number;
  /** Layer widths C (K = N = C). */
  sizes: number[];
  /** LoRA ranks R. */
  ranks: number[];
  /** N = K of the decode cases (M = 1 on quantized weights; a multiple of 256), and the bytes of weights they cycle through. */
  decodeSize: number;
  decodeFootprint: number;
  timing: TimingOptions;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface BenchCase {
  name: string;
  shape: { M: number; K: number; N: number; R?: number };
  gflops: number;
  tfjs_gflops: number;
  jaxjs_gflops: number;
  vs_tfjs: number;
  vs_jaxjs: number;
  /** Against the FMA peak timed in the same rounds as this case (peak_gflops). */
  vs_peak: number;
  peak_gflops: number;
  /** Largest |ours − tfjs| / (|tfjs| + 1e-2·max|tfjs|) over every output: the two agree when small. */
  max_rel_diff: number;
  /** The same against jax-js (whose LoRA gradients come from its own autodiff). */
  jaxjs_max_rel_diff: number;
}

export interface BenchReport {
  adapter: string;
  peak_gflops: number;
  /** Read bandwidth (GB/s) over a buffer of read_peak_bytes, the decode cases' footprint. */
  read_peak_gbs: number;
  read_peak_bytes: number;
  cases: BenchCase[];
  decode: DecodeCase[];
}

/** Largest elementwise |a − b| / (|b| + 1e-2·max|b|) over every output of the peer: they agree when small. */
function agreement(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const [name, ref] of Object.entries(b)) {
    const got = a[name];
    if (!got || got.length !== ref.length) throw new Error(`benchmark: output '${name}' differs in length between tsugiki and a peer.`);
    const floor = 1e-2 * ref.reduce((mx, v) => Math.max(mx, Math.abs(v)), 0) + 1e-30;
    for (let i = 0; i < ref.length; i++) {
      const e = Math.abs(got[i] - ref[i]) / (Math.abs(ref[i]) + floor);
      worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
    }
  }
  return worst;
}

/** tsugiki's outputs after exactly one run from the inputs (LoRA gradients accumulate across runs). */
async function oneRun(ours: Impl): Promise<Record<string, Float32Array>> {
  ours.step();
  await ours.drain();
  return ours.outputs();
}

function cases(o: BenchOptions): { kind: CaseKind; shape: BenchShape }[] {
  const out: { kind: CaseKind; shape: BenchShape }[] = [];
  for (const c of o.sizes) {
    out.push({ kind: 'matmul', shape: { m: o.rows, c, r: o.ranks[0] } });
    for (const r of o.ranks) out.push({ kind: 'lora', shape: { m: o.rows, c, r } });
  }
  return out;
}

/**
 * Each case with tsugiki's kernels, with tfjs on the same device, with jax-js (jit-compiled, on
 * its own device from the same adapter) and the FMA peak probe, timed in turn (timeInTurn).
 */
export async function runBench(gpu: Gpu, o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const tf = await tfjsOn(gpu);
  const jax = await jaxjsOn();
  log('calibrating the FMA peak…');
  const probe = await peakProbe(gpu);
  log('measuring the read bandwidth…');
  const read = await measureReadBandwidth(gpu, o.decodeFootprint, o.timing);
  const report: BenchReport = { adapter: adapterName(gpu.adapter), peak_gflops: 0, read_peak_gbs: read.gbs, read_peak_bytes: read.bytes, cases: [], decode: [] };
  try {
    for (const { kind, shape } of cases(o)) await runCase(kind, shape);
  } finally {
    probe.dispose();
  }
  for (const dtype of Object.keys(DECODE_TYPES) as DecodeType[]) {
    log(`decode x·Wᵀ ${dtype} M=1 N=K=${o.decodeSize}…`);
    report.decode.push(await runDecodeCase(gpu, dtype, o.decodeSize, read.bytes, read.gbs, o.timing));
  }
  return report;

  async function runCase(kind: CaseKind, shape: BenchShape): Promise<void> {
    const { m, c, r } = shape;
    const name = kind === 'matmul' ? 'matmul x·Wᵀ' : `lora fwd+bwd r=${r}`;
    log(`${name} M=${m} C=${c}…`);
    const data = caseData(shape);
    const ours = oursImpl(gpu, kind, shape, data);
    const peer = tfjsImpl(tf, gpu, kind, shape, data);
    const jaxPeer = jaxjsImpl(jax, kind, shape, data);
    try {
      const mineOut = await oneRun(ours);
      const diff = agreement(mineOut, await peer.outputs());
      const jaxDiff = agreement(mineOut, await jaxPeer.outputs());
      const flops = caseFlops(kind, shape);
      const [mine, theirs, jaxs, peak] = (await timeInTurn([ours, peer, jaxPeer, probe], o.timing)).map((ms, i) => gflops(i === 3 ? probe.flops : flops, ms));
      report.peak_gflops = Math.max(report.peak_gflops, peak);
      report.cases.push({
        name,
        shape: kind === 'matmul' ? { M: m, K: c, N: c } : { M: m, K: c, N: c, R: r },
        gflops: mine,
        tfjs_gflops: theirs,
        jaxjs_gflops: jaxs,
        vs_tfjs: mine / theirs,
        vs_jaxjs: mine / jaxs,
        vs_peak: mine / peak,
        peak_gflops: peak,
        max_rel_diff: diff,
        jaxjs_max_rel_diff: jaxDiff,
      });
    } finally {
      ours.dispose();
      peer.dispose();
      jaxPeer.dispose();
    }
  }
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)];
}

/** The report as aligned text tables. */
export function formatReport(r: BenchReport): string {
  const head = ['case', 'M', 'K', 'N', 'R', 'GFLOP/s', 'tfjs GFLOP/s', 'jax-js GFLOP/s', 'peak GFLOP/s', 'vs tfjs', 'vs jax-js', 'vs peak', 'max rel diff'];
  const rows = r.cases.map((c) => [
    c.name, String(c.shape.M), String(c.shape.K), String(c.shape.N), c.shape.R === undefined ? '-' : String(c.shape.R),
    c.gflops.toFixed(2), c.tfjs_gflops.toFixed(2), c.jaxjs_gflops.toFixed(2), c.peak_gflops.toFixed(2), `${c.vs_tfjs.toFixed(2)}×`, `${c.vs_jaxjs.toFixed(2)}×`, c.vs_peak.toFixed(3),
    Math.max(c.max_rel_diff, c.jaxjs_max_rel_diff).toExponential(1),
  ]);
  const decode = r.decode.map((c) => [
    c.name, String(c.shape.N), String(c.shape.K), `${(c.weight_bytes / 2 ** 20).toFixed(2)} MiB × ${c.copies}`,
    c.gbs.toFixed(3), c.general_gbs.toFixed(3), `${c.vs_general.toFixed(2)}×`, c.vs_read_peak.toFixed(3), c.general_vs_read_peak.toFixed(3), c.max_rel_diff.toExponential(1),
  ]);
  return [
    `adapter: ${r.adapter}`, `FMA peak: ${r.peak_gflops.toFixed(2)} GFLOP/s (fastest round; each case is against the peak timed in its own rounds)`,
    `read bandwidth: ${r.read_peak_gbs.toFixed(2)} GB/s over ${(r.read_peak_bytes / 2 ** 20).toFixed(0)} MiB`, '',
    ...table(head, rows), '',
    ...table(['decode (M = 1)', 'N', 'K', 'weights', 'GB/s', 'general GB/s', 'vs general', 'vs read peak', 'general vs peak', 'max rel diff'], decode), '',
  ].join('\n');
}
