/**
 * GGUF llama tensors as Hugging Face tensors. Names map `blk.N.attn_q.weight` →
 * `model.layers.N.self_attn.q_proj.weight` (and so on); GGUF dims are reversed relative to HF
 * (dims[0] is the fastest, HF's last), so a row-major [out, in] weight is stored as dims [in, out]
 * with the same bytes. llama.cpp's convert_hf_to_gguf.py permutes the rows of q_proj (per query
 * head) and k_proj (per key/value head) so that RoPE rotates adjacent pairs:
 *
 *   permute(w, n_head) = w.reshape(n_head, 2, D/2, in).swapaxes(1, 2).reshape(w.shape)
 *
 * i.e. GGUF row h·D + 2j + s holds HF row h·D + s·D/2 + j (s ∈ {0, 1}, j < D/2). We apply the
 * inverse, so everything downstream uses HF's rotate-half RoPE.
 */
import { FormatError } from '../io/errors.ts';
import { GGML_BF16, GGML_F16, GGML_F32, quantNameOf } from '../io/ggml-types.ts';
import { ggufTensorBytes, refuseUnsupportedTypes, type GgufFile, type GgufTensorInfo } from '../io/gguf.ts';
import type { ModelConfig } from './config.ts';
import { weightTable, type WeightDtype, type WeightEntry, type WeightSource } from './weights.ts';

const TOP_LEVEL: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

const PER_LAYER: Record<string, string> = {
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
  attn_norm: 'input_layernorm',
  ffn_norm: 'post_attention_layernorm',
};

/** The HF name of a GGUF llama tensor, or null when the name is not one llama uses. */
export function ggufToHfName(name: string): string | null {
  if (name in TOP_LEVEL) return TOP_LEVEL[name];
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
  if (!m || !(m[2] in PER_LAYER)) return null;
  return `model.layers.${m[1]}.${PER_LAYER[m[2]]}.${m[3]}`;
}

/**
 * For HF row r of a q/k weight with nHead heads of D rows, the GGUF row that holds it
 * (the inverse of the converter's permute).
 */
export function ggufRowOfHfRow(r: number, headDim: number): number {
  const half = headDim / 2;
  const h = Math.floor(r / headDim);
  const w = r % headDim;
  const s = Math.floor(w / half);
  const j = w % half;
  return h * headDim + 2 * j + s;
}

/** Undoes llama.cpp's q/k row permutation on raw bytes: rows of rowBytes bytes, heads of D rows. */
export function unpermuteRows(raw: Uint8Array, rows: number, rowBytes: number, headDim: number): Uint8Array {
  if (rows % headDim !== 0 || headDim % 2 !== 0) throw new Error(`unpermuteRows: ${rows} rows is not a whole number of heads of ${headDim} (even) rows`);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const from = ggufRowOfHfRow(r, headDim) * rowBytes;
    out.set(raw.subarray(from, from + rowBytes), r * rowBytes);
  }
  return out;
}

const GGML_DTYPES = new Map<number, WeightDtype>([[GGML_F32, 'f32'], [GGML_F16, 'f16'], [GGML_BF16, 'bf16']]);

/**
 * The tensors of a GGUF llama file in HF names and layout (views, except the un-permuted q/k).
 * Quantized tensors keep their blocks (dtype `q4_k`, …): a block lies inside one row, so the q/k
 * un-permutation moves whole rows of bytes.
 */
export function weightsFromGguf(file: GgufFile, bytes: Uint8Array, config: ModelConfig): WeightSource {
  refuseUnsupportedTypes(file);
  const entries = new Map<string, WeightEntry>();
  for (const t of file.tensors) {
    const name = ggufToHfName(t.name);
    if (name === null) {
      throw new FormatError(file.source, `tensor '${t.name}' is not part of a llama model as tsugiki knows it; the file may be another architecture`);
    }
    const dtype = GGML_DTYPES.get(t.type) ?? quantNameOf(t.type);
    if (!dtype) throw new FormatError(file.source, `tensor '${t.name}' is ${t.typeName}, a type tsugiki does not read`);
    const shape = [...t.dims].reverse();
    const raw = () => ggufTensorBytes(file, bytes, t);
    const heads = name.endsWith('q_proj.weight') ? config.heads : name.endsWith('k_proj.weight') ? config.kvHeads : 0;
    entries.set(name, { shape, dtype, file: file.source, read: heads > 0 ? unpermuted(t, raw, shape, config.headDim) : raw });
  }
  return weightTable(file.source, entries);
}

function unpermuted(t: GgufTensorInfo, raw: () => Uint8Array, shape: number[], headDim: number): () => Uint8Array {
  const rows = shape[0];
  return () => unpermuteRows(raw(), rows, t.byteLength / rows, headDim);
}
