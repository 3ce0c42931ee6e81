import type { Gpu } from '../src/gpu/device.ts';
import type { Tensor } from '../src/gpu/tensor.ts';
import { loraBackward, loraFlops, loraForward, loraScratchElements } from '../src/kernels/lora.ts';
import { linearForward } from '../src/kernels/matmul.ts';

/** A benchmark shape: M rows (B·T) through a C → C linear layer (K = N = C), LoRA rank R. */
export interface BenchShape {
  m: number;
  c: number;
  r: number;
}

export type CaseKind = 'matmul' | 'lora';

/** Inputs shared by every implementation of a case, so their outputs can be compared. */
export interface CaseData {
  x: Float32Array; // [M, K]
  w: Float32Array; // [N, K]
  a: Float32Array; // [R, K]
  b: Float32Array; // [N, R]
  dy: Float32Array; // [M, N]
  scale: number;
}

/** One implementation of one case: `step` records and submits a run, `outputs` reads a run's results. */
export interface Impl {
  step(): void;
  drain(): Promise<void>;
  outputs(): Promise<Record<string, Float32Array>>;
  dispose(): void;
}

/** n values uniform in ±scale from a fixed linear congruential sequence (the same inputs every run). */
export function uniform(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function caseData({ m, c, r }: BenchShape): CaseData {
  const init = 1 / Math.sqrt(c);
  return {
    x: uniform(m * c, 1, 1),
    w: uniform(c * c, 2, init),
    a: uniform(r * c, 3, init),
    b: uniform(c * r, 4, 0.1),
    dy: uniform(m * c, 5, 1),
    scale: 2,
  };
}

/** FLOPs of one run: 2·M·N·K for the matmul, forward + backward for LoRA (see loraFlops). */
export function caseFlops(kind: CaseKind, { m, c, r }: BenchShape): number {
  return kind === 'matmul' ? 2 * m * c * c : loraFlops(m, c, c, r);
}

/** tsugiki's kernels: linearForward for the matmul case, loraForward + loraBackward for LoRA. */
export function oursImpl(gpu: Gpu, kind: CaseKind, { m, c, r }: BenchShape, d: CaseData): Impl {
  const up = (name: string, shape: number[], data: Float32Array) => gpu.pool.upload(`bench.${name}`, shape, 'f32', data);
  const zeros = (name: string, shape: number[]) => up(name, shape, new Float32Array(shape.reduce((p, q) => p * q, 1)));
  const t: Record<string, Tensor> = {
    x: up('x', [m, c], d.x),
    w: up('w', [c, c], d.w),
    y: zeros('y', [m, c]),
  };
  if (kind === 'lora') {
    Object.assign(t, {
      a: up('a', [r, c], d.a),
      b: up('b', [c, r], d.b),
      dy: up('dy', [m, c], d.dy),
      h: zeros('h', [m, r]),
      dh: zeros('dh', [m, r]),
      dx: zeros('dx', [m, c]),
      da: zeros('da', [r, c]),
      db: zeros('db', [c, r]),
      scratch: zeros('scratch', [loraScratchElements(m, c, c, r)]),
    });
  }
  const step = () => {
    const rec = gpu.recorder(`bench.${kind}`);
    if (kind === 'matmul') {
      linearForward(rec, { x: t.x, w: t.w, y: t.y });
    } else {
      const common = { x: t.x, w: t.w, a: t.a, b: t.b, scale: d.scale, dropout: 0, seed: 0, scratch: t.scratch };
      loraForward(rec, { ...common, y: t.y, h: t.h });
      loraBackward(rec, { ...common, h: t.h, dy: t.dy, dx: t.dx, da: t.da, db: t.db, dh: t.dh });
    }
    rec.submit();
    rec.destroy();
  };
  const names = kind === 'matmul' ? ['y'] : ['y', 'dx', 'da', 'db'];
  return {
    step,
    drain: () => gpu.sync(`benchmark ${kind}`),
    outputs: async () => Object.fromEntries(await Promise.all(names.map(async (n) => [n, await gpu.pool.readF32(t[n])] as const))),
    dispose: () => Object.values(t).forEach((x) => gpu.pool.releaseTensor(x)),
  };
}
