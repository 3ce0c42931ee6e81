/**
 * Merging an adapter into the base weights on the CPU: W' = W + s·B·A (PEFT's merge_and_unload),
 * accumulated in float64 and rounded once to the checkpoint's dtype.
 *
 * Shapes: W [N, K] (HF nn.Linear, [out, in]) or [K, N] for GPT-2's Conv1D (fan_in_fan_out),
 * A [R, K], B [N, R]. The merged Conv1D weight keeps the checkpoint's [in, out] layout.
 */
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../io/halfs.ts';
import type { SafeDtype, SafeTensorInput } from '../io/safetensors.ts';
import { readSlot, type AdapterLayout } from './layout.ts';

export interface MergeDims {
  N: number;
  K: number;
  R: number;
  /** W is stored [K, N] (Conv1D) instead of [N, K]. */
  fanInFanOut?: boolean;
}

function checkLengths(W: Float32Array, A: Float32Array, B: Float32Array, d: MergeDims): void {
  const { N, K, R } = d;
  const wShape = d.fanInFanOut ? `[${K}, ${N}]` : `[${N}, ${K}]`;
  if (W.length !== N * K) throw new Error(`mergeWeight: W has ${W.length} values but ${wShape} needs ${N * K}`);
  if (A.length !== R * K) throw new Error(`mergeWeight: A has ${A.length} values but [${R}, ${K}] needs ${R * K}`);
  if (B.length !== N * R) throw new Error(`mergeWeight: B has ${B.length} values but [${N}, ${R}] needs ${N * R}`);
}

/** W + scale·B·A in float64, in W's own layout. */
export function mergeWeight64(W: Float32Array, A: Float32Array, B: Float32Array, scale: number, d: MergeDims): Float64Array {
  checkLengths(W, A, B, d);
  const { N, K, R } = d;
  const out = new Float64Array(N * K);
  const row = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    row.fill(0);
    for (let r = 0; r < R; r++) {
      const b = B[n * R + r];
      if (b === 0) continue;
      const a0 = r * K;
      for (let k = 0; k < K; k++) row[k] += b * A[a0 + k];
    }
    for (let k = 0; k < K; k++) {
      const i = d.fanInFanOut ? k * N + n : n * K + k;
      out[i] = W[i] + scale * row[k];
    }
  }
  return out;
}

/** W + scale·B·A rounded once to f32. */
export function mergeWeight(W: Float32Array, A: Float32Array, B: Float32Array, scale: number, d: MergeDims): Float32Array {
  return Float32Array.from(mergeWeight64(W, A, B, scale, d));
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/**
 * f64 → f32 rounding to odd: an inexact result gets an odd last bit. Rounding that f32 to f16 or
 * bf16 (nearest-even) then equals rounding the f64 directly, because f32 keeps ≥ 2 extra bits;
 * plain nearest-even twice could land on the wrong side of a tie.
 */
function roundToOddF32(x: number): number {
  const r = Math.fround(x);
  if (r === x || !Number.isFinite(r)) return r;
  scratch[0] = r;
  if ((scratchBits[0] & 1) === 0) scratchBits[0] += Math.abs(r) < Math.abs(x) ? 1 : -1;
  return scratch[0];
}

/** Rounds float64 values to a checkpoint dtype (F16/BF16 as bit patterns), to nearest, ties to even. */
export function roundToDtype(x: Float64Array, dtype: SafeDtype): Float32Array | Uint16Array {
  if (dtype === 'F32') return Float32Array.from(x);
  const odd = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) odd[i] = roundToOddF32(x[i]);
  return dtype === 'F16' ? f32ToF16(odd) : f32ToBf16(odd);
}

function widen(t: SafeTensorInput): Float32Array {
  if (t.dtype === 'F32') return t.data as Float32Array;
  return t.dtype === 'F16' ? f16ToF32(t.data as Uint16Array) : bf16ToF32(t.data as Uint16Array);
}

export interface MergeAdapter {
  layout: AdapterLayout;
  params: Float32Array;
  /** loraScale(cfg), times the strength slider if any. */
  scale: number;
}

/**
 * The checkpoint's tensors with every adapted module's weight merged (same names, shapes and
 * dtypes; other tensors passed through). Give the tensors as the checkpoint file stores them:
 * GPT-2's Conv1D weights [in, out] (not the engine's transposed copy; attn.c_proj is square, so
 * the layout cannot be told from the shape). GPT-2 checkpoints may name weights without the
 * `transformer.` prefix (`h.0.attn.c_attn.weight`); both spellings are found.
 */
export function mergedCheckpoint(weights: readonly SafeTensorInput[], adapter: MergeAdapter): SafeTensorInput[] {
  const { layout, params, scale } = adapter;
  if (params.length !== layout.totalFloats) {
    throw new Error(`mergedCheckpoint: the adapter buffer holds ${params.length} floats but its layout needs ${layout.totalFloats}`);
  }
  const index = new Map(weights.map((w, i) => [w.name, i]));
  const out = [...weights];
  for (const e of layout.entries) {
    const candidates = [`${e.name}.weight`, `${e.name.replace(/^transformer\./, '')}.weight`];
    const at = candidates.map((n) => index.get(n)).find((i) => i !== undefined);
    if (at === undefined) {
      throw new Error(`mergedCheckpoint: the checkpoint has no weight '${candidates[0]}' for adapted module ${e.name}; merge into the base model the adapter was trained on`);
    }
    const w = weights[at];
    const K = e.inFeatures;
    const N = e.outFeatures;
    const want = e.fanInFanOut ? [K, N] : [N, K];
    if (w.shape.length !== 2 || w.shape[0] !== want[0] || w.shape[1] !== want[1]) {
      throw new Error(`mergedCheckpoint: weight '${w.name}' has shape [${w.shape.join(', ')}] but the adapter's ${e.name} needs [${want.join(', ')}]; the adapter belongs to a different base model`);
    }
    const merged = mergeWeight64(widen(w), readSlot(params, e.a), readSlot(params, e.b), scale, { N, K, R: layout.rank, fanInFanOut: e.fanInFanOut });
    out[at] = { name: w.name, dtype: w.dtype, shape: [...w.shape], data: roundToDtype(merged, w.dtype) };
  }
  return out;
}
