import { GpuError } from './errors.ts';
import { type DType, type Tensor, tensorBytes } from './tensor.ts';

export const STORAGE_USAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
export const READBACK_USAGE = 0x1 | 0x8; // MAP_READ | COPY_DST

type TypedArray = Float32Array | Uint16Array | Uint32Array | Int32Array | Uint8Array;

/**
 * Every GPU buffer of the engine is allocated here, labelled `owner.name`, so that live and peak
 * bytes are known per owner. Freed buffers are kept by (size, usage) and handed out again.
 */
export class BufferPool {
  liveBytes = 0;
  peakBytes = 0;
  private readonly owners = new Map<string, number>();
  private readonly live = new Map<GPUBuffer, { label: string; bytes: number; usage: number }>();
  private readonly free = new Map<string, GPUBuffer[]>();

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  alloc(label: string, byteLength: number, usage = STORAGE_USAGE): GPUBuffer {
    const bytes = Math.max(16, Math.ceil(byteLength / 16) * 16);
    if (bytes > this.maxBufferSize) {
      throw new GpuError(
        `'${label}' needs a ${formatBytes(bytes)} buffer, but this GPU allows at most ${formatBytes(this.maxBufferSize)} per buffer. ` +
          'Try a smaller model, batch size or sequence length.',
        'limits',
      );
    }
    const key = freeKey(bytes, usage);
    let buffer = this.free.get(key)?.pop();
    if (!buffer) buffer = this.device.createBuffer({ label, size: bytes, usage });
    this.live.set(buffer, { label, bytes, usage });
    this.liveBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    const owner = ownerOf(label);
    this.owners.set(owner, (this.owners.get(owner) ?? 0) + bytes);
    return buffer;
  }

  /** Starts a new peak measurement from the bytes live now. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  /** Returns a buffer for reuse by a later allocation of the same size and usage. */
  release(buffer: GPUBuffer): void {
    const entry = this.live.get(buffer);
    if (!entry) return;
    this.live.delete(buffer);
    this.liveBytes -= entry.bytes;
    const owner = ownerOf(entry.label);
    this.owners.set(owner, (this.owners.get(owner) ?? 0) - entry.bytes);
    const key = freeKey(entry.bytes, entry.usage);
    const list = this.free.get(key) ?? [];
    list.push(buffer);
    this.free.set(key, list);
  }

  /** Destroys a live buffer instead of keeping it for reuse (one that may still be mapping, say). */
  discard(buffer: GPUBuffer): void {
    const entry = this.live.get(buffer);
    if (!entry) return;
    this.release(buffer);
    const list = this.free.get(freeKey(entry.bytes, entry.usage))!;
    list.splice(list.indexOf(buffer), 1);
    buffer.destroy();
  }

  /** Frees every cached buffer that is not live (after a shape change, say). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }

  /** Live bytes per owner (the part of the label before the first dot). */
  byOwner(): Record<string, number> {
    return Object.fromEntries([...this.owners].filter(([, b]) => b > 0));
  }

  tensor(label: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const buffer = this.alloc(label, tensorBytes(shape, dtype));
    return { label, shape: [...shape], dtype, buffer };
  }

  releaseTensor(t: Tensor): void {
    this.release(t.buffer);
  }

  /** Allocates a tensor and fills it. f16/bf16 data come as their raw 16-bit patterns, quantized as raw blocks. */
  upload(label: string, shape: readonly number[], dtype: DType, data: TypedArray): Tensor {
    const expected = tensorBytes(shape, dtype);
    if (data.byteLength !== expected) {
      throw new Error(`upload '${label}': ${data.byteLength} bytes given for ${dtype}[${shape.join(', ')}] (${expected} bytes).`);
    }
    const t = this.tensor(label, shape, dtype);
    this.write(t, data);
    return t;
  }

  write(t: Tensor, data: TypedArray, byteOffset = 0): void {
    // writeBuffer needs a multiple of 4 bytes: pad odd-length 16-bit data.
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    this.device.queue.writeBuffer(t.buffer, (t.byteOffset ?? 0) + byteOffset, bytes);
  }

  /** Copies a buffer back to the CPU. Awaits the GPU work submitted before it. */
  async read(t: Tensor | GPUBuffer, byteLength?: number): Promise<ArrayBuffer> {
    const buffer = 'buffer' in t ? t.buffer : t;
    const offset = 'buffer' in t ? (t.byteOffset ?? 0) : 0;
    const size = byteLength ?? ('buffer' in t ? tensorBytes(t.shape, t.dtype) : buffer.size);
    const padded = Math.ceil(size / 4) * 4;
    // Counted under `readback` while the copy is in flight, then kept for the next read of its size.
    const staging = this.alloc('readback.staging', padded, READBACK_USAGE);
    const enc = this.device.createCommandEncoder({ label: 'readback' });
    enc.copyBufferToBuffer(buffer, offset, staging, 0, padded);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(0x1);
      const out = staging.getMappedRange().slice(0, size);
      staging.unmap();
      return out;
    } finally {
      this.release(staging);
    }
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    if (t.dtype !== 'f32') throw new Error(`readF32: ${t.label} is ${t.dtype}.`);
    return new Float32Array(await this.read(t));
  }

  destroy(): void {
    this.trim();
    for (const b of this.live.keys()) b.destroy();
    this.live.clear();
    this.liveBytes = 0;
    this.owners.clear();
  }
}

const freeKey = (bytes: number, usage: number) => `${bytes}:${usage}`;

function ownerOf(label: string): string {
  const dot = label.indexOf('.');
  return dot < 0 ? label : label.slice(0, dot);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
