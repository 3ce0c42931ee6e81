import { describe, expect, it } from 'vitest';
import { attentionBackward, attentionForward, attentionStatsShape, ROWS_MAX_HEAD_DIM, type AttentionDims } from '../../src/kernels/attention.ts';
import { attentionBackwardRef, attentionForwardRef, type AttentionRefDims } from '../reference/attention.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, randomArray, sampleIndices } from '../helpers/numeric.ts';

/** keyMask [B, S]: 1 everywhere except the first `leftPad[b]` keys of sequence b. */
function leftPaddedMask(B: number, S: number, leftPad: number[]): Uint32Array {
  const m = new Uint32Array(B * S).fill(1);
  leftPad.forEach((n, b) => m.fill(0, b * S, b * S + n));
  return m;
}

interface Case {
  dims: AttentionRefDims;
  mask: Uint32Array;
  seed: number;
}

async function compareWithReference({ dims: d, mask, seed }: Case) {
  const gpu = await testGpu();
  const qn = d.B * d.T * d.H * d.D;
  const kn = d.B * d.S * d.KV * d.D;
  const q = randomArray(qn, seed, 1.5);
  const k = randomArray(kn, seed + 1, 1.5);
  const v = randomArray(kn, seed + 2);
  const dOut = randomArray(qn, seed + 3);
  const tq = f32Tensor(gpu, 'test.q', [d.B, d.T, d.H, d.D], q);
  const tk = f32Tensor(gpu, 'test.k', [d.B, d.S, d.KV, d.D], k);
  const tv = f32Tensor(gpu, 'test.v', [d.B, d.S, d.KV, d.D], v);
  const tmask = gpu.pool.upload('test.mask', [d.B, d.S], 'u32', mask);
  const tdo = f32Tensor(gpu, 'test.dout', [d.B, d.T, d.H, d.D], dOut);
  const out = emptyTensor(gpu, 'test.out', [d.B, d.T, d.H, d.D]);
  const stats = emptyTensor(gpu, 'test.stats', attentionStatsShape(d));
  // Gradients start as NaN so that any element the kernels fail to write shows up.
  const nan = (shape: number[]) => f32Tensor(gpu, 'test.grad', shape, new Float64Array(shape.reduce((a, b) => a * b)).fill(NaN));
  const grads = { dQ: nan([d.B, d.T, d.H, d.D]), dK: nan([d.B, d.S, d.KV, d.D]), dV: nan([d.B, d.S, d.KV, d.D]) };
  const dims: AttentionDims = d;
  const [y, dq, dk, dv] = await run(
    gpu,
    (rec) => {
      attentionForward(rec, tq, tk, tv, tmask, out, stats, dims);
      attentionBackward(rec, { q: tq, k: tk, v: tv, keyMask: tmask, out, stats }, tdo, grads, dims);
    },
    out,
    grads.dQ,
    grads.dK,
    grads.dV,
  );
  const ref = attentionBackwardRef(d, q, k, v, mask, dOut);
  return { y, dq, dk, dv, yRef: attentionForwardRef(d, q, k, v, mask), ...ref };
}

/** Largest |a − ref| relative to the largest |ref|: outputs are sums of cancelling terms, so
 *  elementwise relative error would measure cancellation rather than the kernel. */
function scaledError(a: Float64Array, ref: Float64Array): number {
  let err = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return err / mag;
}

// f32 dot products over D ≤ 128 and softmax sums over ≤ 40 keys: ~1e-7 of the scale; 2e-6 leaves room.
const FWD_TOL = 2e-6;
// The backward recomputes P from the saved log-sum-exp and sums over queries and heads: more roundings.
const BWD_TOL = 1e-5;

describe('attention reference', () => {
  it('backward matches central finite differences of the forward (GQA, padding, past > 0)', () => {
    const d: AttentionRefDims = { B: 2, T: 3, S: 6, H: 4, KV: 2, D: 3, past: 2 };
    const mask = leftPaddedMask(2, 6, [0, 3]);
    mask[4] = 0; // a masked key inside sequence 0
    const q = randomArray(d.B * d.T * d.H * d.D, 11);
    const k = randomArray(d.B * d.S * d.KV * d.D, 12);
    const v = randomArray(d.B * d.S * d.KV * d.D, 13);
    const w = randomArray(d.B * d.T * d.H * d.D, 14);
    const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) =>
      attentionForwardRef(d, qq, kk, vv, mask).reduce((s, o, i) => s + o * w[i], 0);
    const g = attentionBackwardRef(d, q, k, v, mask, w);
    const check = (x: Float64Array, grad: Float64Array, f: (x: Float64Array) => number) => {
      const idx = sampleIndices(x.length, 40);
      const fd = finiteDifference(f, x, idx);
      // float64 central differences with h = 1e-5: truncation error ~1e-10.
      idx.forEach((i, n) => expect(grad[i]).toBeCloseTo(fd[n], 8));
    };
    check(q, g.dQ, (x) => loss(x, k, v));
    check(k, g.dK, (x) => loss(q, x, v));
    check(v, g.dV, (x) => loss(q, k, x));
    // Keys past past + T − 1 = 4 and masked keys get no gradient.
    for (let x = 0; x < d.KV * d.D; x++) expect(g.dK[(0 * d.S + 5) * d.KV * d.D + x]).toBe(0);
    for (let x = 0; x < d.KV * d.D; x++) expect(g.dV[(0 * d.S + 4) * d.KV * d.D + x]).toBe(0);
  });
});

describe('attention reference with a sliding window', () => {
  it('backward matches finite differences; keys older than the window get no gradient from a query', () => {
    const d: AttentionRefDims = { B: 1, T: 6, S: 8, H: 2, KV: 1, D: 3, past: 2, window: 3, scale: 0.7 };
    const mask = new Uint32Array(8).fill(1);
    const q = randomArray(d.B * d.T * d.H * d.D, 21), k = randomArray(d.B * d.S * d.KV * d.D, 22), v = randomArray(d.B * d.S * d.KV * d.D, 23);
    const w = randomArray(d.B * d.T * d.H * d.D, 24);
    const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => attentionForwardRef(d, qq, kk, vv, mask).reduce((s, o, i) => s + o * w[i], 0);
    const g = attentionBackwardRef(d, q, k, v, mask, w);
    for (const [x, grad, f] of [[q, g.dQ, (x: Float64Array) => loss(x, k, v)], [k, g.dK, (x: Float64Array) => loss(q, x, v)], [v, g.dV, (x: Float64Array) => loss(q, k, x)]] as const) {
      const idx = sampleIndices(x.length, 30);
      const fd = finiteDifference(f, x, idx);
      idx.forEach((i, n) => expect(grad[i]).toBeCloseTo(fd[n], 8));
    }
    // Key 0 is seen by positions 0..2 only, i.e. by no query (they start at past = 2 … only row 0 sees it).
    const probe = randomArray(d.B * d.T * d.H * d.D, 25);
    probe.fill(0, d.H * d.D); // only row 0 (position 2) carries gradient
    const g0 = attentionBackwardRef(d, q, k, v, mask, probe);
    expect(g0.dV.slice(0, d.D).some((x) => x !== 0)).toBe(true);
    const probe1 = Float64Array.from(probe).fill(0, 0, d.H * d.D);
    probe1.fill(1, d.H * d.D * 1, d.H * d.D * 2); // row 1 (position 3) sees keys 1..3: not key 0
    expect(attentionBackwardRef(d, q, k, v, mask, probe1).dV.slice(0, d.D).every((x) => x === 0)).toBe(true);
  });
});

describe('attention on the GPU', () => {
  for (const [name, d, pad] of [
    ['rows kernels (D = 8), window 5, padding, scale 0.3', { B: 2, T: 19, S: 19, H: 4, KV: 2, D: 8, past: 0, window: 5, scale: 0.3 }, [0, 4]],
    ['tiled kernels (D = 24), window 7 over several tiles, past > 0', { B: 2, T: 37, S: 41, H: 4, KV: 2, D: 24, past: 4, window: 7, scale: 0.3 }, [0, 6]],
    ['tiled kernels (D = 24), window 20 longer than a tile', { B: 1, T: 45, S: 45, H: 2, KV: 1, D: 24, past: 0, window: 20 }, [3]],
    ['KV-cache decode with a window (T = 1, past = 20, S = 24)', { B: 1, T: 1, S: 24, H: 2, KV: 1, D: 24, past: 20, window: 6 }, [0]],
    ['KV-cache prefill with a window, rows kernels (T = 9, past = 11, S = 25)', { B: 1, T: 9, S: 25, H: 2, KV: 2, D: 16, past: 11, window: 4 }, [0]],
  ] as [string, AttentionRefDims, number[]][]) {
    it(`sliding window: ${name}`, async () => {
      const r = await compareWithReference({ dims: d, mask: leftPaddedMask(d.B, d.S, pad), seed: 30 + d.T });
      expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
      if (d.T > 1) expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
      expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
      expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
    });
  }

  it('matches the reference with GQA and a left-padded sequence (fully masked rows give zeros)', async () => {
    const d = { B: 2, T: 7, S: 7, H: 4, KV: 2, D: 8, past: 0 };
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(2, 7, [0, 3]), seed: 1 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
    // Sequence 1, rows 0..2 see only padding: exact zeros, not NaN.
    const row = d.H * d.D;
    for (let i = 0; i < 3 * row; i++) expect(r.y[d.T * row + i]).toBe(0);
    for (let i = 0; i < 3 * row; i++) expect(r.dq[d.T * row + i]).toBe(0);
  });

  it('decodes one token against a KV cache (T = 1, past = 8, S = 9)', async () => {
    const d = { B: 2, T: 1, S: 9, H: 4, KV: 2, D: 8, past: 8 };
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(2, 9, [0, 2]), seed: 2 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
  });

  it('ignores cache rows past past + T (S = 12 > past + T = 7)', async () => {
    const d = { B: 1, T: 3, S: 12, H: 2, KV: 1, D: 16, past: 4 };
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(1, 12, [1]), seed: 3 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    for (let i = 7 * 16; i < 12 * 16; i++) expect(r.dk[i]).toBe(0);
  });

  it('matches the reference for multi-head attention (KV = H) over several tiles, D = 12', async () => {
    const d = { B: 1, T: 37, S: 37, H: 3, KV: 3, D: 12, past: 0 };
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(1, 37, [0]), seed: 4 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
  });

  it('runs the tiled kernels past ROWS_MAX_HEAD_DIM (D = 24) with GQA, padding, past > 0 and several tiles', async () => {
    const d = { B: 2, T: 19, S: 26, H: 4, KV: 2, D: 24, past: 4 };
    expect(d.D).toBeGreaterThan(ROWS_MAX_HEAD_DIM);
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(2, 26, [0, 6]), seed: 6 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
    // Keys past past + T = 23 are seen by no query: exact zeros.
    const row = d.KV * d.D;
    for (let i = 23 * row; i < 26 * row; i++) expect(r.dk[i]).toBe(0);
  });

  it('handles the largest head dimension (D = 128) with four query heads per kv head', async () => {
    const d = { B: 1, T: 19, S: 19, H: 4, KV: 1, D: 128, past: 0 };
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(1, 19, [5]), seed: 5 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
  });

  it('handles Gemma 3\'s head dimension (D = 256, halved tiles) with a window, GQA 2:1 and past > 0', async () => {
    const d = { B: 1, T: 10, S: 13, H: 2, KV: 1, D: 256, past: 3, window: 5, scale: 1 / 16 };
    const r = await compareWithReference({ dims: d, mask: leftPaddedMask(1, 13, [1]), seed: 7 });
    expect(scaledError(r.y, r.yRef)).toBeLessThan(FWD_TOL);
    expect(scaledError(r.dq, r.dQ)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dk, r.dK)).toBeLessThan(BWD_TOL);
    expect(scaledError(r.dv, r.dV)).toBeLessThan(BWD_TOL);
  });

  it('refuses bad dims and shapes before encoding anything', async () => {
    const gpu = await testGpu();
    const rec = gpu.recorder('test');
    const d: AttentionDims = { B: 1, T: 4, S: 4, H: 3, KV: 2, D: 8 };
    const t = (shape: number[], dtype: 'f32' | 'u32' = 'f32') => emptyTensor(gpu, 'test.x', shape, dtype);
    const q = t([1, 4, 3, 8]);
    const kv = t([1, 4, 2, 8]);
    const mask = t([1, 4], 'u32');
    const stats = t([2, 1, 3, 4]);
    expect(() => attentionForward(rec, q, kv, kv, mask, q, stats, d)).toThrow(/H = 3 query heads is not a multiple of KV = 2/);
    const d2: AttentionDims = { B: 1, T: 4, S: 4, H: 2, KV: 2, D: 8, past: 1 };
    expect(() => attentionForward(rec, q, kv, kv, mask, q, stats, d2)).toThrow(/past \+ T = 1 \+ 4 keys are needed but k\/v hold only S = 4/);
    const d3: AttentionDims = { B: 1, T: 4, S: 4, H: 2, KV: 2, D: 8 };
    expect(() => attentionForward(rec, t([1, 4, 2, 8]), kv, kv, t([1, 4]), t([1, 4, 2, 8]), t([2, 1, 2, 4]), d3)).toThrow(
      /keyMask is test.x f32\[1, 4\] but one of u32 is needed/,
    );
    expect(() => attentionForward(rec, q, kv, kv, mask, q, stats, { ...d3, D: 512 })).toThrow(/D = 512 is larger than the 256/);
    expect(rec.length).toBe(0);
  });
});
