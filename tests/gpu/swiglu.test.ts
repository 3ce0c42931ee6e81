import { describe, expect, it } from 'vitest';
import { swigluBackward, swigluBackwardInPlace, swigluForward } from '../../src/kernels/swiglu.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { finiteDifference, maxRelError, randomArray, sampleIndices } from '../helpers/numeric.ts';
import { gegluBackwardRef, gegluForwardRef, swigluBackwardRef, swigluForwardRef } from '../reference/swiglu.ts';

// N=37 rows × I=53 intermediate channels: not a multiple of the 256-wide workgroup.
const N = 37;
const I = 53;

/** Gate values over [-8, 8] plus large ones where a naive σ overflows exp. */
function gates(seed: number): Float64Array {
  const g = randomArray(N * I, seed, 8);
  [0, -100, 100, -1e4, 1e4].forEach((v, k) => (g[k * 11] = v));
  return g;
}

describe('swiglu reference', () => {
  it('backward matches central finite differences of the forward', () => {
    const n = 150;
    const gate = randomArray(n, 1, 5);
    const up = randomArray(n, 2, 2);
    const dOut = randomArray(n, 3);
    const { dGate, dUp } = swigluBackwardRef(dOut, gate, up);
    const dot = (y: Float64Array) => y.reduce((s, v, i) => s + v * dOut[i], 0);
    const idx = sampleIndices(n, 30);
    const fdGate = finiteDifference((g) => dot(swigluForwardRef(g, up)), gate, idx);
    const fdUp = finiteDifference((u) => dot(swigluForwardRef(gate, u)), up, idx);
    // Central differences in float64 with h=1e-5: error ~1e-10.
    expect(maxRelError(fdGate, idx.map((i) => dGate[i]), 1e-6)).toBeLessThan(1e-6);
    expect(maxRelError(fdUp, idx.map((i) => dUp[i]), 1e-6)).toBeLessThan(1e-6);
  });
});

describe('geglu reference', () => {
  it('backward matches central finite differences of the forward', () => {
    const n = 150;
    const gate = randomArray(n, 11, 5);
    const up = randomArray(n, 12, 2);
    const dOut = randomArray(n, 13);
    const { dGate, dUp } = gegluBackwardRef(dOut, gate, up);
    const dot = (y: Float64Array) => y.reduce((s, v, i) => s + v * dOut[i], 0);
    const idx = sampleIndices(n, 30);
    // h = 1e-5 central differences: truncation ~h²·f''' with f''' of the cubic inside tanh ~1e2.
    expect(maxRelError(finiteDifference((g) => dot(gegluForwardRef(g, up)), gate, idx), idx.map((i) => dGate[i]), 1e-3)).toBeLessThan(1e-6);
    expect(maxRelError(finiteDifference((u) => dot(gegluForwardRef(gate, u)), up, idx), idx.map((i) => dUp[i]), 1e-3)).toBeLessThan(1e-6);
  });
});

describe('geglu (gelu_tanh gate, Gemma) on the GPU', () => {
  it('forward and backward match the float64 reference at 37×53, including saturated gates', async () => {
    const gpu = await testGpu();
    const gate = gates(14);
    const up = randomArray(N * I, 15, 3);
    const dOut = randomArray(N * I, 16);
    const t = (label: string, data: Float64Array) => f32Tensor(gpu, label, [N, I], data);
    const [tdo, tg, tu] = [t('test.dOut', dOut), t('test.gate', gate), t('test.up', up)];
    const [to, tdg, tdu] = ['test.out', 'test.dGate', 'test.dUp'].map((l) => emptyTensor(gpu, l, [N, I]));
    const [out, dGate, dUp] = await run(gpu, (rec) => {
      swigluForward(rec, tg, tu, to, 'gelu_tanh');
      swigluBackward(rec, tdo, tg, tu, tdg, tdu, 'gelu_tanh');
    }, to, tdg, tdu);
    const ref = gegluBackwardRef(dOut, gate, up);
    expect([...out, ...dGate, ...dUp].every(Number.isFinite)).toBe(true);
    // 1 + tanh(u) cancels for negative gates (as in gelu.wgsl): absolute error ~|g·up|·ulp, so the
    // errors are measured against a floor of 1 (outputs reach |g·up| ≈ 24).
    expect(maxRelError(out, gegluForwardRef(gate, up), 1)).toBeLessThan(4e-6);
    expect(maxRelError(dGate, ref.dGate, 1)).toBeLessThan(4e-6);
    expect(maxRelError(dUp, ref.dUp, 1)).toBeLessThan(4e-6);
  });
});

describe('swiglu on the GPU', () => {
  it('forward matches the float64 reference at 37×53, including saturated gates', async () => {
    const gpu = await testGpu();
    const gate = gates(4);
    const up = randomArray(N * I, 5, 3);
    const tg = f32Tensor(gpu, 'test.gate', [N, I], gate);
    const tu = f32Tensor(gpu, 'test.up', [N, I], up);
    const to = emptyTensor(gpu, 'test.out', [N, I]);
    const [out] = await run(gpu, (rec) => swigluForward(rec, tg, tu, to), to);
    const ref = swigluForwardRef(gate, up);
    expect(out.every(Number.isFinite)).toBe(true);
    // A few f32 roundings (exp, divide, two products): ~4 ulp relative; floor 1e-3 covers σ
    // near underflow, where tiny outputs carry exp's absolute error.
    expect(maxRelError(out, ref, 1e-3)).toBeLessThan(2e-6);
  });

  it('backward matches the float64 reference at 37×53', async () => {
    const gpu = await testGpu();
    const gate = gates(6);
    const up = randomArray(N * I, 7, 3);
    const dOut = randomArray(N * I, 8);
    const t = (label: string, data: Float64Array) => f32Tensor(gpu, label, [N, I], data);
    const [tdo, tg, tu] = [t('test.dOut', dOut), t('test.gate', gate), t('test.up', up)];
    const tdg = emptyTensor(gpu, 'test.dGate', [N, I]);
    const tdu = emptyTensor(gpu, 'test.dUp', [N, I]);
    const [dGate, dUp] = await run(gpu, (rec) => swigluBackward(rec, tdo, tg, tu, tdg, tdu), tdg, tdu);
    const ref = swigluBackwardRef(dOut, gate, up);
    expect(dGate.every(Number.isFinite) && dUp.every(Number.isFinite)).toBe(true);
    // silu'(g) = σ(1 + g(1 − σ)) cancels near g ≈ −1.28 (its zero): absolute error ~|g|·ulp,
    // times |up·dOut| ≤ 3; floor 1e-3 keeps that relative to a meaningful scale.
    expect(maxRelError(dGate, ref.dGate, 1e-3)).toBeLessThan(2e-5);
    expect(maxRelError(dUp, ref.dUp, 1e-3)).toBeLessThan(2e-6);
  });

  it('backward in place writes the same bits over gate and up as the backward into new buffers', async () => {
    const gpu = await testGpu();
    const gate = gates(9);
    const up = randomArray(N * I, 10, 3);
    const dOut = randomArray(N * I, 11);
    const t = (label: string, data: Float64Array) => f32Tensor(gpu, label, [N, I], data);
    const [tdo, tg, tu, tg2, tu2] = [t('test.dOut', dOut), t('test.gate', gate), t('test.up', up), t('test.gate2', gate), t('test.up2', up)];
    const tdg = emptyTensor(gpu, 'test.dGate', [N, I]);
    const tdu = emptyTensor(gpu, 'test.dUp', [N, I]);
    const [dGate, dUp, inGate, inUp] = await run(gpu, (rec) => {
      swigluBackward(rec, tdo, tg, tu, tdg, tdu);
      swigluBackwardInPlace(rec, tdo, tg2, tu2);
    }, tdg, tdu, tg2, tu2);
    expect(Float32Array.from(inGate)).toEqual(Float32Array.from(dGate));
    expect(Float32Array.from(inUp)).toEqual(Float32Array.from(dUp));
    const rec = gpu.recorder('test');
    expect(() => swigluBackwardInPlace(rec, tdo, tg2, tg2)).toThrow(/three different buffers/);
  });

  it('refuses mismatched shapes before encoding', async () => {
    const gpu = await testGpu();
    const a = emptyTensor(gpu, 'test.a', [5, 7]);
    const b = emptyTensor(gpu, 'test.b', [5, 8]);
    const rec = gpu.recorder('test');
    expect(() => swigluForward(rec, a, b, a)).toThrow(/swiglu: up is test.b f32\[5, 8\] but \[5, 7\] is needed/);
    expect(() => swigluBackward(rec, a, a, a, a, b)).toThrow(/swiglu backward: dUp is test.b/);
    expect(rec.length).toBe(0);
  });
});
