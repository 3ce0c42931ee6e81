import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { dropoutHash, dropoutKeep, loraBackward, loraForward, loraScratchElements } from '../../src/kernels/lora.ts';
import { linearForward } from '../../src/kernels/matmul.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { weightTensor, type WeightDType } from '../helpers/matmul-weights.ts';
import { finiteDifference, maxRelError, randomArray, sampleIndices } from '../helpers/numeric.ts';
import { dropoutMaskRef, loraBackwardRef, loraForwardRef, type LoraDims, type LoraRefInputs } from '../reference/lora.ts';

describe('dropout hash', () => {
  it('mixes every input bit and drops a fraction p of elements', () => {
    // An xorshift-multiply finaliser maps 0 to 0 and flips about half the output bits per input bit.
    expect(dropoutHash(0)).toBe(0);
    let flips = 0;
    for (let v = 1; v <= 500; v++) {
      for (let bit = 0; bit < 32; bit++) {
        let d = (dropoutHash(v) ^ dropoutHash((v ^ (1 << bit)) >>> 0)) >>> 0;
        for (; d; d &= d - 1) flips++;
      }
    }
    // Mean over 16,000 flips: 16 ± 0.03 (σ = 2/√16000) for an ideal hash; lowbias32 is near ideal.
    expect(Math.abs(flips / 16_000 - 16)).toBeLessThan(0.5);
    const n = 200_000;
    for (const p of [0.1, 0.5]) {
      let dropped = 0;
      for (let i = 0; i < n; i++) if (!dropoutKeep(7, i, p)) dropped++;
      // Binomial standard deviation √(p(1−p)/n) ≤ 0.0012: 5σ.
      expect(Math.abs(dropped / n - p)).toBeLessThan(0.006);
    }
    let same = 0;
    for (let i = 0; i < 10_000; i++) if (dropoutKeep(1, i, 0.5) === dropoutKeep(2, i, 0.5)) same++;
    // Different seeds give independent masks: agreement ≈ 50% ± 2.5% (5σ).
    expect(Math.abs(same / 10_000 - 0.5)).toBeLessThan(0.025);
  });
});

function inputs(d: LoraDims, p: number, seed: number, w?: Float64Array): LoraRefInputs {
  return {
    x: randomArray(d.m * d.k, 1),
    w: w ?? randomArray(d.n * d.k, 2),
    bias: randomArray(d.n, 3),
    a: randomArray(d.r * d.k, 4, 0.5),
    b: randomArray(d.n * d.r, 5, 0.5),
    scale: 2,
    mask: dropoutMaskRef(d.m * d.k, p, seed),
  };
}

describe('LoRA reference', () => {
  it('backward matches central finite differences of sum(y ⊙ G), with dropout p = 0.1', () => {
    const d = { m: 6, k: 7, n: 5, r: 3 };
    const v = inputs(d, 0.1, 99);
    expect(Array.from(v.mask).filter((f) => f === 0).length).toBeGreaterThan(0);
    const g = randomArray(d.m * d.n, 8);
    const grads = loraBackwardRef(d, v, g);
    const loss = (over: Partial<LoraRefInputs>) => {
      const { y } = loraForwardRef(d, { ...v, ...over });
      return y.reduce((s, yi, i) => s + yi * g[i], 0);
    };
    const cases: [string, Float64Array, Float64Array][] = [
      ['x', Float64Array.from(v.x), grads.dx],
      ['a', Float64Array.from(v.a), grads.da],
      ['b', Float64Array.from(v.b), grads.db],
    ];
    for (const [name, param, grad] of cases) {
      const idx = sampleIndices(param.length, 12);
      const fd = finiteDifference((p) => loss({ [name]: p }), param, idx);
      // The loss is linear in each parameter: central differences are exact up to float64 rounding.
      expect(maxRelError(fd, idx.map((i) => grad[i]), 1e-3), name).toBeLessThan(1e-7);
    }
  });
});

interface Case extends LoraDims {
  dtype: WeightDType;
  p: number;
  /** Give the layer split-K scratch. */
  split?: boolean;
}

async function gpuCase(gpu: Gpu, c: Case) {
  const seed = 1234;
  const w0 = randomArray(c.n * c.k, 2);
  const { t: w, exact } = weightTensor(gpu, 'test.w', [c.n, c.k], w0, c.dtype);
  const v = inputs(c, c.p, seed, exact);
  const g = randomArray(c.m * c.n, 8);
  const da0 = randomArray(c.r * c.k, 9);
  const db0 = randomArray(c.n * c.r, 10);
  const t = {
    x: f32Tensor(gpu, 'test.x', [c.m, c.k], v.x),
    bias: f32Tensor(gpu, 'test.bias', [c.n], v.bias!),
    a: f32Tensor(gpu, 'test.a', [c.r, c.k], v.a),
    b: f32Tensor(gpu, 'test.b', [c.n, c.r], v.b),
    y: emptyTensor(gpu, 'test.y', [c.m, c.n]),
    h: emptyTensor(gpu, 'test.h', [c.m, c.r]),
    dy: f32Tensor(gpu, 'test.dy', [c.m, c.n], g),
    dx: f32Tensor(gpu, 'test.dx', [c.m, c.k], randomArray(c.m * c.k, 11)),
    da: f32Tensor(gpu, 'test.da', [c.r, c.k], da0),
    db: f32Tensor(gpu, 'test.db', [c.n, c.r], db0),
    dh: emptyTensor(gpu, 'test.dh', [c.m, c.r]),
  };
  const scratch = c.split ? emptyTensor(gpu, 'test.scratch', [loraScratchElements(c.m, c.k, c.n, c.r)]) : undefined;
  const common = { x: t.x, w, a: t.a, b: t.b, scale: v.scale, dropout: c.p, seed, scratch };
  const [y, h, dx, da, db] = await run(gpu, (rec) => {
    loraForward(rec, { ...common, bias: t.bias, y: t.y, h: t.h });
    loraBackward(rec, { ...common, h: t.h, dy: t.dy, dx: t.dx, da: t.da, db: t.db, dh: t.dh });
  }, t.y, t.h, t.dx, t.da, t.db);
  return { got: { y, h, dx, da, db }, ref: loraForwardRef(c, v), grads: loraBackwardRef(c, v, g), da0, db0 };
}

describe('LoRA linear on the GPU', () => {
  const cases: Case[] = [
    { m: 37, k: 29, n: 53, r: 8, dtype: 'f32', p: 0 },
    { m: 37, k: 29, n: 53, r: 8, dtype: 'f32', p: 0.1 },
    { m: 37, k: 29, n: 53, r: 1, dtype: 'f16', p: 0.1 },
    { m: 37, k: 29, n: 53, r: 16, dtype: 'bf16', p: 0.1 },
    { m: 1, k: 70, n: 66, r: 8, dtype: 'f16', p: 0 },
    // Contractions over M = 200 and K = 150 split into parts summed by a second pass.
    { m: 200, k: 150, n: 70, r: 8, dtype: 'f32', p: 0.1, split: true },
  ];
  for (const c of cases) {
    it(`forward and backward match the reference: M=${c.m} K=${c.k} N=${c.n} R=${c.r}, ${c.dtype} W, p=${c.p}${c.split ? ', split-K' : ''}`, async () => {
      const gpu = await testGpu();
      const { got, ref, grads, da0, db0 } = await gpuCase(gpu, c);
      // f32 sums of ≤ 200 terms of size ≲ 1 (weights decoded exactly in the reference): ~1e-6.
      const tol = 2e-5;
      expect(maxRelError(got.y, ref.y, 1)).toBeLessThan(tol);
      expect(maxRelError(got.h, ref.h, 1)).toBeLessThan(tol);
      expect(maxRelError(got.dx, grads.dx, 1)).toBeLessThan(tol);
      // Parameter gradients accumulate onto what was there.
      expect(maxRelError(got.da, grads.da.map((g, i) => g + da0[i]), 1)).toBeLessThan(tol);
      expect(maxRelError(got.db, grads.db.map((g, i) => g + db0[i]), 1)).toBeLessThan(tol);
    });
  }

  it('with B = 0 gives exactly the base layer output', async () => {
    const gpu = await testGpu();
    const [m, k, n, r] = [37, 29, 53, 8];
    const x = f32Tensor(gpu, 'test.x', [m, k], randomArray(m * k, 1));
    const { t: w } = weightTensor(gpu, 'test.w', [n, k], randomArray(n * k, 2), 'bf16');
    const bias = f32Tensor(gpu, 'test.bias', [n], randomArray(n, 3));
    const a = f32Tensor(gpu, 'test.a', [r, k], randomArray(r * k, 4));
    const b = emptyTensor(gpu, 'test.b', [n, r]);
    const y = emptyTensor(gpu, 'test.y', [m, n]);
    const base = emptyTensor(gpu, 'test.base', [m, n]);
    const h = emptyTensor(gpu, 'test.h', [m, r]);
    const [gotY, gotBase] = await run(gpu, (rec) => {
      loraForward(rec, { x, w, bias, a, b, scale: 2, dropout: 0.1, seed: 5, y, h });
      linearForward(rec, { x, w, bias, y: base });
    }, y, base);
    // y + s·h·0 adds exact zeros: bit-identical.
    expect(Array.from(gotY)).toEqual(Array.from(gotBase));
  });

  it('refuses mismatched ranks and shapes before encoding anything', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const x = emptyTensor(gpu, 'test.x', [4, 6]);
    const w = emptyTensor(gpu, 'test.w', [5, 6]);
    const a = emptyTensor(gpu, 'test.a', [2, 6]);
    const y = emptyTensor(gpu, 'test.y', [4, 5]);
    const h = emptyTensor(gpu, 'test.h', [4, 2]);
    const common = { x, w, a, scale: 1, dropout: 0, seed: 0, y, h };
    expect(() => loraForward(rec, { ...common, b: emptyTensor(gpu, 'test.b', [5, 3]) })).toThrow(
      /loraForward: b is test.b f32\[5, 3\] but f32\[5, 2\] is needed \(LoRA B \[N, R\], N = 5, R = 2\)/,
    );
    expect(() => loraForward(rec, { ...common, b: emptyTensor(gpu, 'test.b2', [5, 2]), h: emptyTensor(gpu, 'test.h2', [4, 3]) })).toThrow(/h is test.h2 f32\[4, 3\] but f32\[4, 2\] is needed/);
    expect(() => loraForward(rec, { ...common, b: emptyTensor(gpu, 'test.b3', [5, 2]), dropout: 1.5 })).toThrow(/dropout 1.5 must be in \[0, 1\)/);
    expect(rec.length).toBe(0);
  });
});
