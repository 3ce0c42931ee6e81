/**
 * The frozen weights on the GPU, labelled `weights.<hf name>`, in their source dtype (f32, the raw
 * 16-bit patterns of f16/bf16, or a GGUF file's quantized blocks byte for byte: the kernels unpack
 * and dequantize them as they read). Two exceptions, both for the kernels'
 * sake: linear biases are widened to f32 (matmul adds an f32 bias; they are tiny), and GPT-2's
 * fused `attn.c_attn` [3C, C] is uploaded as three [C, C] tensors (and three biases) for q, k and
 * v, so each projection writes a contiguous [B, T, H, D] tensor that attention reads directly
 * (tensor views need 256-byte aligned offsets, which a column slice of [N, 3C] never has).
 * Tied embeddings: `lm_head.weight` is the embedding table itself.
 *
 * A weight bigger than one storage binding may be (maxStorageBufferBindingSize: 128 MiB unless the
 * adapter allows more; Qwen2.5-0.5B's tied 151936×896 bf16 table is 272 MB) is stored as row
 * windows, each its own buffer (Tensor.rowWindows); the matmul and embedding kernels loop over them.
 */
import type { Gpu } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import type { DType, Tensor } from '../gpu/tensor.ts';
import { tensorBytes } from '../gpu/tensor.ts';
import { bytesToF32, DTYPE_BYTES, isQuantized, type WeightSource } from './weights.ts';
import type { ModelConfig } from './config.ts';
import { expectedTensors } from './modules.ts';

const LINEAR_BIAS = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|c_attn|c_proj|c_fc)\.bias$/;
const FUSED_QKV = /\.attn\.c_attn\.(weight|bias)$/;

/** Which third of GPT-2's fused c_attn: q rows first, then k, then v. */
export type QkvPart = 'q' | 'k' | 'v';

export class GpuWeights {
  private readonly tensors = new Map<string, Tensor>();
  /** Bytes of all frozen weight buffers (the tied head counted once). */
  bytes = 0;

  constructor(private readonly gpu: Gpu) {}

  /** A weight by HF name (`lm_head.weight` resolves to the embeddings when tied). */
  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`GPU weights: no tensor '${name}' was uploaded (${this.tensors.size} are, e.g. ${[...this.tensors.keys()][0]}).`);
    return t;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** One third of GPT-2's fused `c_attn` weight or bias (`name` is the fused tensor's HF name). */
  part(name: string, which: QkvPart): Tensor {
    return this.get(`${name}#${which}`);
  }

  set(name: string, t: Tensor, counted = true): void {
    this.tensors.set(name, t);
    if (counted) for (const part of t.rowWindows ?? [t]) this.bytes += part.buffer.size;
  }

  destroy(): void {
    const seen = new Set<GPUBuffer>();
    for (const t of this.tensors.values()) {
      for (const part of t.rowWindows ?? [t]) {
        if (seen.has(part.buffer)) continue;
        seen.add(part.buffer);
        this.gpu.pool.release(part.buffer);
      }
    }
    this.tensors.clear();
    this.bytes = 0;
  }
}

/** A fresh copy of bytes (a view into a file may start at any byte offset). */
function copyBytes(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  out.set(raw);
  return out;
}

/**
 * Row windows [first row, row count] of a [rows, …] weight whose rows take rowBytes each, so that
 * no window exceeds maxBytes.
 */
export function planRowWindows(rows: number, rowBytes: number, maxBytes: number): [number, number][] {
  if (rowBytes > maxBytes) {
    throw new GpuError(`one row of a weight takes ${rowBytes} bytes, more than this GPU binds at once (${maxBytes} bytes); the model is too large for this GPU.`, 'limits');
  }
  const per = Math.floor(maxBytes / rowBytes);
  const out: [number, number][] = [];
  for (let r = 0; r < rows; r += per) out.push([r, Math.min(per, rows - r)]);
  return out;
}

/** One 2-D weight, whole or in row windows when it is bigger than maxBindingBytes. */
function uploadWeight(gpu: Gpu, label: string, shape: number[], dtype: DType, raw: Uint8Array, maxBindingBytes: number): Tensor {
  if (raw.byteLength <= maxBindingBytes || shape.length !== 2) return gpu.pool.upload(label, shape, dtype, raw);
  const rowBytes = raw.byteLength / shape[0];
  const windows = planRowWindows(shape[0], rowBytes, maxBindingBytes).map(([r0, n]) =>
    gpu.pool.upload(`${label}[rows ${r0}:${r0 + n}]`, [n, shape[1]], dtype, raw.subarray(r0 * rowBytes, (r0 + n) * rowBytes)));
  return { label, shape: [...shape], dtype, buffer: windows[0].buffer, rowWindows: windows };
}

/**
 * Uploads every tensor the config implies (checked by the loader), in the layout described above.
 * maxBindingBytes: the largest weight kept in one buffer (the device's binding limit; tests lower it).
 */
export function uploadWeights(gpu: Gpu, config: ModelConfig, source: WeightSource, maxBindingBytes = gpu.device.limits.maxStorageBufferBindingSize): GpuWeights {
  const out = new GpuWeights(gpu);
  for (const [name, shape] of expectedTensors(config)) {
    const info = source.info(name);
    const label = `weights.${name}`;
    if (config.arch === 'gpt2' && FUSED_QKV.test(name)) {
      const C = config.hidden;
      const isBias = name.endsWith('.bias');
      const elem = DTYPE_BYTES[info.dtype as keyof typeof DTYPE_BYTES]; // GPT-2 comes from safetensors: never quantized
      const all = isBias ? source.toF32(name) : null;
      const raw = isBias ? null : source.bytes(name);
      (['q', 'k', 'v'] as const).forEach((which, i) => {
        const partLabel = `${label}[${which}]`;
        const t = isBias
          ? gpu.pool.upload(partLabel, [C], 'f32', all!.slice(i * C, (i + 1) * C))
          : gpu.pool.upload(partLabel, [C, C], info.dtype, copyBytes(raw!.subarray(i * C * C * elem, (i + 1) * C * C * elem)));
        out.set(`${name}#${which}`, t);
      });
      continue;
    }
    // Biases, and any 1-D tensor stored quantized (norm gains, in hand-made files), are widened to f32.
    if (LINEAR_BIAS.test(name) || (shape.length === 1 && isQuantized(info.dtype))) {
      out.set(name, gpu.pool.upload(label, shape, 'f32', bytesToF32(source.bytes(name), info.dtype)));
      continue;
    }
    const raw = copyBytes(source.bytes(name));
    if (raw.byteLength !== tensorBytes(shape, info.dtype)) {
      throw new Error(`GPU weights: '${name}' has ${raw.byteLength} bytes but ${info.dtype}[${shape.join(', ')}] needs ${tensorBytes(shape, info.dtype)}.`);
    }
    out.set(name, uploadWeight(gpu, label, shape, info.dtype, raw, maxBindingBytes));
  }
  if (config.tieWordEmbeddings) {
    out.set('lm_head.weight', out.get(config.arch === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight'), false);
  }
  return out;
}

/** Bytes the frozen weights take on the GPU, without uploading (for `info` and estimates). */
export function weightBytes(config: ModelConfig, source: WeightSource): number {
  let n = 0;
  for (const [name, shape] of expectedTensors(config)) {
    const stored = source.info(name).dtype;
    const dtype = LINEAR_BIAS.test(name) || (shape.length === 1 && isQuantized(stored)) ? 'f32' : stored;
    const parts = config.arch === 'gpt2' && FUSED_QKV.test(name) ? 3 : 1;
    n += parts * Math.max(16, Math.ceil(tensorBytes(shape, dtype) / parts / 16) * 16);
  }
  return n;
}
