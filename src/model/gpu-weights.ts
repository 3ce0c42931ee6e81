/**
 * The frozen weights on the GPU, labelled `weights.<hf name>`, in their source dtype (f32, the raw
 * 16-bit patterns of f16/bf16, or a GGUF file's quantized blocks byte for byte: the kernels unpack
 * and dequantize them as they read). Linear biases are widened to f32 (matmul adds an f32 bias;
 * they are tiny). Tied embeddings: `lm_head.weight` is the embedding table itself.
 *
 * A fused tensor (GPT-2's `attn.c_attn` weight [3C, C] and bias [3C], modules.ts fusedTensors) is
 * one buffer whose row blocks each start at a multiple of 256 bytes (minStorageBufferOffsetAlignment;
 * padding between blocks when a block's bytes are not a multiple), stored as one view per block
 * under the block's name (`attn.q_proj.weight` [C, C], …): each projection is an ordinary weight
 * and writes a contiguous [B, T, H, D] tensor that attention reads directly.
 *
 * A weight bigger than one storage binding may be (maxStorageBufferBindingSize: 128 MiB unless the
 * adapter allows more; Qwen2.5-0.5B's tied 151936×896 bf16 table is 272 MB) is stored as row
 * windows, each its own buffer (Tensor.rowWindows); the matmul and embedding kernels loop over them.
 */
import type { Gpu } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { tensorBytes, viewOf, type DType, type Tensor } from '../gpu/tensor.ts';
import { bytesToF32, isQuantized, type WeightSource } from './weights.ts';
import type { ModelConfig } from './config.ts';
import { expectedTensors, fusedTensors } from './modules.ts';

const LINEAR_BIAS = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|c_attn|c_proj|c_fc)\.bias$/;

/** Bytes between the starts of views into one buffer must be a multiple of this (minStorageBufferOffsetAlignment). */
export const VIEW_ALIGN = 256;

export class GpuWeights {
  private readonly tensors = new Map<string, Tensor>();
  private readonly counted = new Set<GPUBuffer>();
  /** Bytes of all frozen weight buffers (each buffer once: the tied head, the blocks of a fused tensor). */
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

  set(name: string, t: Tensor): void {
    this.tensors.set(name, t);
    for (const part of t.rowWindows ?? [t]) {
      if (this.counted.has(part.buffer)) continue;
      this.counted.add(part.buffer);
      this.bytes += part.buffer.size;
    }
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
    this.counted.clear();
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
 * Byte offsets of row blocks stored one after another in one buffer, each at a multiple of
 * VIEW_ALIGN so that each can be bound as a view, and the bytes up to the end of the last block.
 */
export function planRowBlocks(blockBytes: readonly number[]): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let end = 0;
  for (const b of blockBytes) {
    const at = Math.ceil(end / VIEW_ALIGN) * VIEW_ALIGN;
    offsets.push(at);
    end = at + b;
  }
  return { offsets, bytes: end };
}

/**
 * A fused tensor [rows, …] (`raw` in `dtype`) in one buffer, its row blocks at planRowBlocks'
 * offsets: one view per block, [rows_i] for a 1-D tensor, [rows_i, cols] for a 2-D one.
 */
function uploadBlocks(gpu: Gpu, label: string, shape: number[], dtype: DType, raw: Uint8Array, blocks: { name: string; rows: number }[], maxBindingBytes: number): Map<string, Tensor> {
  const rowBytes = raw.byteLength / shape[0];
  const big = blocks.find((b) => b.rows * rowBytes > maxBindingBytes);
  if (big) throw new GpuError(`'${big.name}' (a row block of '${label.slice('weights.'.length)}') takes ${big.rows * rowBytes} bytes, more than this GPU binds at once (${maxBindingBytes} bytes); the model is too large for this GPU.`, 'limits');
  const { offsets, bytes } = planRowBlocks(blocks.map((b) => b.rows * rowBytes));
  const data = new Uint8Array(bytes);
  const buffer = gpu.pool.alloc(label, bytes);
  const out = new Map<string, Tensor>();
  let r0 = 0;
  blocks.forEach((b, i) => {
    data.set(raw.subarray(r0 * rowBytes, (r0 + b.rows) * rowBytes), offsets[i]);
    out.set(b.name, viewOf(buffer, `${label}[${r0}:${r0 + b.rows}]`, shape.length === 1 ? [b.rows] : [b.rows, shape[1]], dtype, offsets[i]));
    r0 += b.rows;
  });
  gpu.pool.write({ label, shape: [bytes], dtype: 'u32', buffer }, data);
  return out;
}

/**
 * Uploads every tensor the config implies (checked by the loader), in the layout described above.
 * maxBindingBytes: the largest weight kept in one buffer (the device's binding limit; tests lower it).
 */
export function uploadWeights(gpu: Gpu, config: ModelConfig, source: WeightSource, maxBindingBytes = gpu.device.limits.maxStorageBufferBindingSize): GpuWeights {
  const out = new GpuWeights(gpu);
  const fused = fusedTensors(config);
  for (const [name, shape] of expectedTensors(config)) {
    const info = source.info(name);
    const label = `weights.${name}`;
    // Biases, and any 1-D tensor stored quantized (norm gains, in hand-made files), are widened to f32.
    const widen = LINEAR_BIAS.test(name) || (shape.length === 1 && isQuantized(info.dtype));
    const dtype = widen ? 'f32' : info.dtype;
    const raw = widen ? new Uint8Array(bytesToF32(source.bytes(name), info.dtype).buffer) : source.bytes(name);
    if (raw.byteLength !== tensorBytes(shape, dtype)) {
      throw new Error(`GPU weights: '${name}' has ${raw.byteLength} bytes but ${dtype}[${shape.join(', ')}] needs ${tensorBytes(shape, dtype)}.`);
    }
    const blocks = fused.get(name);
    if (blocks) {
      for (const [blockName, t] of uploadBlocks(gpu, label, shape, dtype, raw, blocks, maxBindingBytes)) out.set(blockName, t);
    } else if (widen) {
      out.set(name, gpu.pool.upload(label, shape, 'f32', raw));
    } else {
      out.set(name, uploadWeight(gpu, label, shape, dtype, copyBytes(raw), maxBindingBytes));
    }
  }
  if (config.tieWordEmbeddings) {
    out.set('lm_head.weight', out.get(config.arch === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight'));
  }
  return out;
}

/** Bytes the frozen weights take on the GPU, without uploading (for `info` and estimates). */
export function weightBytes(config: ModelConfig, source: WeightSource): number {
  const fused = fusedTensors(config);
  let n = 0;
  for (const [name, shape] of expectedTensors(config)) {
    const stored = source.info(name).dtype;
    const dtype = LINEAR_BIAS.test(name) || (shape.length === 1 && isQuantized(stored)) ? 'f32' : stored;
    const bytes = tensorBytes(shape, dtype);
    const blocks = fused.get(name);
    n += align16(blocks ? planRowBlocks(blocks.map((b) => (b.rows * bytes) / shape[0])).bytes : bytes);
  }
  return n;
}

/** A buffer's size as the pool allocates it. */
const align16 = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);
