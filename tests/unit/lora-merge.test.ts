import { describe, it, expect } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';
import { parseSafetensors, tensorToF32, writeSafetensors, type SafeTensorInput } from '../../src/io/safetensors.ts';
import { initAdapter } from '../../src/lora/init.ts';
import { planAdapterLayout, slotView, writeSlot } from '../../src/lora/layout.ts';
import { mergedCheckpoint, mergeWeight, mergeWeight64, roundToDtype } from '../../src/lora/merge.ts';
import { adapterModules, type LoraModelShape } from '../../src/lora/modules.ts';
import { randomArray } from '../helpers/numeric.ts';

const f32 = (n: number, seed: number, scale = 1) => Float32Array.from(randomArray(n, seed, scale));

/** Independent reference: ΔW = B·A as a float64 matrix [N, K], then W + s·ΔW. */
function reference64(W: ArrayLike<number>, A: ArrayLike<number>, B: ArrayLike<number>, s: number, N: number, K: number, R: number): Float64Array {
  const out = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let d = 0;
      for (let r = 0; r < R; r++) d += B[n * R + r] * A[r * K + k];
      out[n * K + k] = W[n * K + k] + s * d;
    }
  }
  return out;
}

/** Nearest 16-bit float to x (ties to even), by checking the neighbours of x's truncation in float64. */
function nearest16(x: number, dtype: 'F16' | 'BF16'): number {
  const toF = dtype === 'F16' ? f16ToF32 : bf16ToF32;
  const fromF = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  const guess = fromF(new Float32Array([x]))[0];
  let best = guess;
  let bestErr = Infinity;
  for (const c of [guess - 1, guess, guess + 1]) {
    const err = Math.abs(toF(new Uint16Array([c]))[0] - x);
    if (err < bestErr || (err === bestErr && (c & 1) === 0)) { best = c; bestErr = err; }
  }
  return best;
}

describe('mergeWeight: W + s·B·A with float64 accumulation', () => {
  const [N, K, R] = [7, 13, 3];
  const W = f32(N * K, 1);
  const A = f32(R * K, 2, 0.3);
  const B = f32(N * R, 3, 0.2);

  it('equals a float64 triple loop rounded once to f32, at odd shapes (exact: same f64 operations)', () => {
    const got = mergeWeight(W, A, B, 1.7, { N, K, R });
    expect(got).toEqual(Float32Array.from(reference64(W, A, B, 1.7, N, K, R)));
    expect(got).not.toEqual(W);
  });

  it('GPT-2 Conv1D: W stored [K, N], merged in place of the same layout', () => {
    const Wt = new Float32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) Wt[k * N + n] = W[n * K + k];
    const got = mergeWeight(Wt, A, B, 0.5, { N, K, R, fanInFanOut: true });
    const ref = Float32Array.from(reference64(W, A, B, 0.5, N, K, R));
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(got[k * N + n]).toBe(ref[n * K + k]);
  });

  it('B = 0 (a fresh adapter) leaves W bit for bit', () => {
    expect(mergeWeight(W, A, new Float32Array(N * R), 4, { N, K, R })).toEqual(W);
  });

  it('refuses buffers of the wrong size', () => {
    expect(() => mergeWeight(W, A, B, 1, { N, K: K + 1, R })).toThrow('mergeWeight: W has 91 values but [7, 14] needs 98');
  });
});

describe('rounding to the checkpoint dtype', () => {
  it('rounds once: 1 + 2^-8 + 2^-30 goes up to bf16 1.0078125 (rounding via f32 first would tie down to 1)', () => {
    const merged = mergeWeight64(new Float32Array([1]), new Float32Array([1]), new Float32Array([2 ** -8 + 2 ** -30]), 1, { N: 1, K: 1, R: 1 });
    expect(merged[0]).toBe(1 + 2 ** -8 + 2 ** -30);
    expect(f32ToBf16(Float32Array.from(merged))[0]).toBe(0x3f80); // the double-rounding trap
    expect(roundToDtype(merged, 'BF16')[0]).toBe(0x3f81);
  });

  it('rounds once for f16 too: 1 + 2^-11 + 2^-40 → 0x3c01', () => {
    const merged = mergeWeight64(new Float32Array([1]), new Float32Array([2 ** -11, 2 ** -40]), new Float32Array([1, 1]), 1, { N: 1, K: 1, R: 2 });
    expect(roundToDtype(merged, 'F16')[0]).toBe(0x3c01);
    expect(roundToDtype(new Float64Array([-(1 + 2 ** -11 + 2 ** -40)]), 'F16')[0]).toBe(0xbc01);
  });

  it('matches nearest-even rounding of the float64 result on random values (f16 and bf16)', () => {
    const x = randomArray(4000, 9, 3).map((v, i) => v + (i % 3) * 2 ** -20 * v);
    for (const dtype of ['F16', 'BF16'] as const) {
      const got = roundToDtype(x, dtype);
      for (let i = 0; i < x.length; i++) expect(got[i]).toBe(nearest16(x[i], dtype));
    }
  });
});

describe('mergedCheckpoint', () => {
  const TINY: LoraModelShape = { arch: 'llama', hidden: 10, layers: 2, heads: 2, kvHeads: 1, headDim: 5, intermediate: 7 };
  const GPT2: LoraModelShape = { arch: 'gpt2', hidden: 6, layers: 1, heads: 2, kvHeads: 2, headDim: 3, intermediate: 24 };

  function trained(model: LoraModelShape, targets: string[], R: number) {
    const layout = planAdapterLayout(adapterModules(model, { targets, layers: null }), R);
    const params = initAdapter(layout, { init: 'default', seed: 4 });
    layout.entries.forEach((e, i) => writeSlot(params, e.b, f32(e.b.shape[0] * R, 20 + i, 0.1)));
    return { layout, params };
  }

  it('Llama: merges f32 and bf16 weights, passes the rest through, writes a valid safetensors', () => {
    const { layout, params } = trained(TINY, ['q_proj', 'v_proj'], 3);
    const q0 = f32(100, 5);
    const v1 = f32ToBf16(f32(50, 6));
    const weights: SafeTensorInput[] = [
      { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [4, 10], data: f32(40, 7) },
      { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [10, 10], data: q0 },
      { name: 'model.layers.0.self_attn.v_proj.weight', dtype: 'BF16', shape: [5, 10], data: f32ToBf16(f32(50, 8)) },
      { name: 'model.layers.1.self_attn.q_proj.weight', dtype: 'F32', shape: [10, 10], data: f32(100, 9) },
      { name: 'model.layers.1.self_attn.v_proj.weight', dtype: 'BF16', shape: [5, 10], data: v1 },
    ];
    const out = mergedCheckpoint(weights, { layout, params, scale: 2 });
    expect(out.map((t) => [t.name, t.dtype, t.shape])).toEqual(weights.map((t) => [t.name, t.dtype, t.shape]));
    expect(out[0]).toBe(weights[0]);
    const e0 = layout.entries[0];
    expect(out[1].data).toEqual(Float32Array.from(reference64(q0, slotView(params, e0.a), slotView(params, e0.b), 2, 10, 10, 3)));
    const e3 = layout.entries[3];
    const ref = reference64(bf16ToF32(v1), slotView(params, e3.a), slotView(params, e3.b), 2, 5, 10, 3);
    expect(Array.from(out[4].data)).toEqual(Array.from(ref, (x) => nearest16(x, 'BF16')));
    const file = writeSafetensors(out);
    expect(tensorToF32(parseSafetensors(file), file, 'model.layers.0.self_attn.q_proj.weight')).toEqual(out[1].data);
  });

  it('GPT-2: finds h.0.* names and keeps the Conv1D [in, out] layout', () => {
    const { layout, params } = trained(GPT2, ['c_attn', 'mlp.c_proj'], 2);
    const cAttn = f32(6 * 18, 10); // [K=6, N=18]
    const cProj = f32(24 * 6, 11); // [K=24, N=6]
    const out = mergedCheckpoint([
      { name: 'h.0.attn.c_attn.weight', dtype: 'F32', shape: [6, 18], data: cAttn },
      { name: 'h.0.mlp.c_proj.weight', dtype: 'F32', shape: [24, 6], data: cProj },
    ], { layout, params, scale: 1.5 });
    const e = layout.entries[1];
    expect(e.name).toBe('transformer.h.0.mlp.c_proj');
    const Wnk = new Float32Array(6 * 24);
    for (let k = 0; k < 24; k++) for (let n = 0; n < 6; n++) Wnk[n * 24 + k] = cProj[k * 6 + n];
    const ref = Float32Array.from(reference64(Wnk, slotView(params, e.a), slotView(params, e.b), 1.5, 6, 24, 2));
    for (let k = 0; k < 24; k++) for (let n = 0; n < 6; n++) expect(out[1].data[k * 6 + n]).toBe(ref[n * 24 + k]);
    expect(out[1].shape).toEqual([24, 6]);
    // c_attn: one delta B·A over the fused [3C, C], B's three row blocks padded apart in the flat buffer (C·R = 12 floats).
    const qkv = layout.entries[0];
    expect(qkv.b.blocks!.map((x) => x.offset - qkv.b.offset)).toEqual([0, 64, 128]);
    const Wqkv = new Float32Array(18 * 6);
    for (let k = 0; k < 6; k++) for (let n = 0; n < 18; n++) Wqkv[n * 6 + k] = cAttn[k * 18 + n];
    const B = new Float32Array(18 * 2);
    for (const [i, blk] of qkv.b.blocks!.entries()) B.set(params.subarray(blk.offset, blk.offset + 12), i * 12);
    const refQkv = Float32Array.from(reference64(Wqkv, slotView(params, qkv.a), B, 1.5, 18, 6, 2));
    for (let k = 0; k < 6; k++) for (let n = 0; n < 18; n++) expect(out[0].data[k * 18 + n]).toBe(refQkv[n * 6 + k]);
  });

  it('names the missing or mis-shaped weight', () => {
    const { layout, params } = trained(TINY, ['q_proj'], 2);
    const w = (shape: number[]): SafeTensorInput[] => [0, 1].map((l) => ({
      name: `model.layers.${l}.self_attn.q_proj.weight`, dtype: 'F32' as const, shape, data: new Float32Array(shape[0] * shape[1]),
    }));
    expect(() => mergedCheckpoint(w([10, 10]).slice(1), { layout, params, scale: 1 })).toThrow(
      "mergedCheckpoint: the checkpoint has no weight 'model.layers.0.self_attn.q_proj.weight' for adapted module model.layers.0.self_attn.q_proj; merge into the base model the adapter was trained on",
    );
    expect(() => mergedCheckpoint(w([10, 12]), { layout, params, scale: 1 })).toThrow(
      "mergedCheckpoint: weight 'model.layers.0.self_attn.q_proj.weight' has shape [10, 12] but the adapter's model.layers.0.self_attn.q_proj needs [10, 10]; the adapter belongs to a different base model",
    );
  });
});
