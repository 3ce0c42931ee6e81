/**
 * The row reductions (RMSNorm, LayerNorm forward and backward, cross-entropy forward, the global
 * gradient norm) with and without WebGPU subgroups on one device: milliseconds per dispatch of each path, and how far the
 * two paths' outputs are apart. `tsugiki bench --reductions` prints it; the kernels keep the
 * subgroup path as their default only where it is not slower (see rmsnorm.ts, cross-entropy.ts).
 */
import type { Gpu } from '../src/gpu/device.ts';
import type { Recorder } from '../src/gpu/recorder.ts';
import type { Tensor } from '../src/gpu/tensor.ts';
import { crossEntropyForward } from '../src/kernels/cross-entropy.ts';
import { gradNorm, gradNormPartials } from '../src/kernels/grad-norm.ts';
import { layernormBackward, layernormForward } from '../src/kernels/layernorm.ts';
import { rmsnormBackward, rmsnormForward } from '../src/kernels/rmsnorm.ts';
import { timePerIteration, type TimingOptions } from './timing.ts';

export interface ReductionCase {
  name: string;
  /** Rows N and row length (C, or V for cross-entropy). */
  rows: number;
  width: number;
  /** Milliseconds per dispatch through workgroup memory, and with subgroups. */
  workgroup_ms: number;
  subgroups_ms: number;
  /** workgroup_ms / subgroups_ms: above 1 the subgroup path is faster. */
  speedup: number;
  /** Largest |subgroups − workgroup| / max |workgroup| over the outputs. */
  max_rel_diff: number;
}

export interface ReductionBenchOptions {
  rows: number;
  /** RMSNorm / LayerNorm widths C. */
  widths: number[];
  /** Cross-entropy vocabularies V. */
  vocabs: number[];
  /** Gradients whose global norm is taken (0: none). */
  gradients?: number;
  /** timing.rounds: the two paths are timed in turn that many times, each keeping its fastest. */
  timing: TimingOptions;
  /** Dispatches recorded into one submission, so submission overhead does not hide the kernel. */
  repeat?: number;
  log?: (line: string) => void;
}

function uniform(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

interface Kernel {
  name: string;
  width: number;
  record: (rec: Recorder) => void;
  outputs: Tensor[];
  tensors: Tensor[];
}

function kernels(gpu: Gpu, o: ReductionBenchOptions): Kernel[] {
  const n = o.rows;
  const up = (name: string, shape: number[], data: Float32Array) => gpu.pool.upload(`bench.${name}`, shape, 'f32', data);
  const out: Kernel[] = [];
  for (const c of o.widths) {
    const x = up('x', [n, c], uniform(n * c, 1, 2));
    const dy = up('dy', [n, c], uniform(n * c, 2, 1));
    const g = up('g', [c], uniform(c, 3, 0.5).map((v) => 1 + v));
    const b = up('b', [c], uniform(c, 4, 0.5));
    const y = up('y', [n, c], new Float32Array(n * c));
    const dx = up('dx', [n, c], new Float32Array(n * c));
    const rstd = up('rstd', [n], new Float32Array(n));
    const mean = up('mean', [n], new Float32Array(n));
    const all = [x, dy, g, b, y, dx, rstd, mean];
    out.push(
      { name: 'rmsnorm forward', width: c, record: (rec) => rmsnormForward(rec, x, g, y, rstd, 1e-5), outputs: [y, rstd], tensors: all },
      { name: 'rmsnorm backward', width: c, record: (rec) => rmsnormBackward(rec, dy, x, g, rstd, dx), outputs: [dx], tensors: [] },
      { name: 'layernorm forward', width: c, record: (rec) => layernormForward(rec, x, g, b, y, { mean, rstd }, 1e-5), outputs: [y, mean, rstd], tensors: [] },
      { name: 'layernorm backward', width: c, record: (rec) => layernormBackward(rec, dy, x, g, { mean, rstd }, dx), outputs: [dx], tensors: [] },
    );
  }
  for (const v of o.vocabs) {
    const logits = up('logits', [n, v], uniform(n * v, 5, 8));
    const targets = gpu.pool.upload('bench.targets', [n], 'i32', Int32Array.from({ length: n }, (_, i) => (i * 7919) % v));
    const loss = up('loss', [n], new Float32Array(n));
    const lse = up('lse', [n], new Float32Array(n));
    out.push({ name: 'cross-entropy forward', width: v, record: (rec) => crossEntropyForward(rec, logits, targets, loss, lse), outputs: [loss, lse], tensors: [logits, targets, loss, lse] });
  }
  const ng = o.gradients ?? 0;
  if (ng > 0) {
    const grad = up('grad', [ng], uniform(ng, 6, 0.01));
    const partials = up('partials', [gradNormPartials(ng)], new Float32Array(gradNormPartials(ng)));
    const norm = up('norm', [1], new Float32Array(1));
    const clip = up('clip', [1], new Float32Array(1));
    out.push({ name: 'gradient norm', width: ng, record: (rec) => gradNorm(rec, grad, partials, norm, clip, 1), outputs: [norm, clip], tensors: [grad, partials, norm, clip] });
  }
  return out;
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / (scale || 1);
}

/** Times each kernel on both paths (the device must have subgroups); restores gpu.subgroups after. */
export async function runReductionBench(gpu: Gpu, o: ReductionBenchOptions): Promise<ReductionCase[]> {
  if (!gpu.adapter.subgroups) throw new Error('the reduction benchmark compares the subgroup and workgroup paths, but this device has no WebGPU subgroups.');
  const before = gpu.subgroups;
  const repeat = o.repeat ?? 8;
  const cases: ReductionCase[] = [];
  const list = kernels(gpu, o);
  try {
    for (const k of list) {
      o.log?.(k.name === 'gradient norm' ? `${k.name} of ${k.width}…` : `${k.name} N=${o.rows} ${k.name.startsWith('cross') ? 'V' : 'C'}=${k.width}…`);
      const ms: Record<string, number> = { workgroup: Infinity, subgroups: Infinity };
      const outs: Record<string, Float32Array[]> = {};
      for (let round = 0; round < o.timing.rounds; round++) {
        for (const path of ['workgroup', 'subgroups'] as const) {
          gpu.subgroups = path === 'subgroups';
          const rec = gpu.recorder('bench.reductions');
          const step = () => {
            for (let i = 0; i < repeat; i++) k.record(rec);
            rec.submit();
          };
          if (round === 0) {
            step();
            await gpu.sync('reduction benchmark');
            outs[path] = await Promise.all(k.outputs.map((t) => gpu.pool.readF32(t)));
          }
          ms[path] = Math.min(ms[path], (await timePerIteration(step, () => gpu.sync('reduction benchmark'), o.timing)) / repeat);
          rec.destroy();
        }
      }
      const diff = Math.max(...outs.workgroup.map((w, i) => relDiff(outs.subgroups[i], w)));
      cases.push({ name: k.name, rows: k.name === 'gradient norm' ? 1 : o.rows, width: k.width, workgroup_ms: ms.workgroup, subgroups_ms: ms.subgroups, speedup: ms.workgroup / ms.subgroups, max_rel_diff: diff });
    }
  } finally {
    gpu.subgroups = before;
    for (const k of list) for (const t of k.tensors) gpu.pool.releaseTensor(t);
  }
  return cases;
}

export function formatReductionReport(cases: ReductionCase[]): string {
  const head = ['reduction', 'N', 'C/V', 'workgroup ms', 'subgroups ms', 'speed-up', 'max rel diff'];
  const rows = cases.map((c) => [c.name, String(c.rows), String(c.width), c.workgroup_ms.toFixed(3), c.subgroups_ms.toFixed(3), `${c.speedup.toFixed(2)}×`, c.max_rel_diff.toExponential(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line), ''].join('\n');
}
