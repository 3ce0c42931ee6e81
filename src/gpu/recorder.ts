import type { Gpu } from './device.ts';
import type { PipelineKey } from './pipelines.ts';
import { tensorBytes, type Tensor } from './tensor.ts';

/** The most workgroups one dimension of a dispatch may have. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

export type Binding = Tensor | GPUBuffer;

export interface Dispatch {
  label: string;
  pipeline: PipelineKey;
  /** Uniform words for `@binding(0) var<uniform>`; pack with `uniforms()`. */
  uniforms: ArrayBuffer;
  /** Storage buffers for bindings 1, 2, … in order; null for a binding the entry point does not use. */
  bindings: readonly (Binding | null)[];
  /**
   * Workgroup counts. A count over 65,535 in x is folded into y: shaders that can receive such a
   * dispatch compute `wid.x + wid.y * nwg.x` and return when it is past their total.
   */
  workgroups: readonly [number, number?, number?];
}

type Step =
  | { kind: 'dispatch'; d: Dispatch; uniformOffset: number }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }
  | { kind: 'clear'; dst: GPUBuffer; dstOffset: number; bytes: number };

/** Bytes of uniforms one dispatch takes in the recorder's buffer. */
export const UNIFORM_ALIGN = 256;
const UNIFORM_USAGE = 0x40 | 0x8; // UNIFORM | COPY_DST

/** The uniform buffer a recorder holds for `bytes` of recorded uniforms (it never shrinks). */
export function uniformBufferBytes(bytes: number): number {
  return Math.max(bytes, 4096);
}

/**
 * Records many dispatches and copies, then encodes them into one command buffer and submits once.
 * Uniforms of all dispatches go into one buffer owned by the recorder; reusing it across submits is
 * safe because queue writes are ordered with submissions.
 */
export class Recorder {
  private steps: Step[] = [];
  /** Run once, right after the next submit (e.g. to map a staging buffer the submit copies into). */
  private after: (() => void)[] = [];
  private uniformBytes = 0;
  private uniformBuffer: GPUBuffer | null = null;
  /**
   * Bind groups by (pipeline, uniform slot, bound ranges). A recorder kept across training steps
   * records the same dispatches at the same uniform offsets each step, so after the first step no
   * bind group is created; the cache is dropped when the uniform buffer is replaced.
   */
  private readonly groups = new Map<string, GPUBindGroup>();

  constructor(
    readonly gpu: Gpu,
    readonly label: string,
  ) {}

  dispatch(d: Dispatch): this {
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return this;
    let wx = x;
    let wy = y;
    if (x > MAX_WORKGROUPS_PER_DIM) {
      if (y !== 1) throw new Error(`${d.label}: ${x}×${y} workgroups cannot be folded into two dimensions.`);
      wy = Math.ceil(x / MAX_WORKGROUPS_PER_DIM);
      wx = Math.ceil(x / wy);
    }
    if (wy > MAX_WORKGROUPS_PER_DIM || z > MAX_WORKGROUPS_PER_DIM) {
      throw new Error(`${d.label}: dispatch of ${x}×${y}×${z} workgroups is too large; split the work.`);
    }
    this.steps.push({ kind: 'dispatch', d: { ...d, workgroups: [wx, wy, z] }, uniformOffset: this.uniformBytes });
    this.uniformBytes += Math.ceil(Math.max(d.uniforms.byteLength, 16) / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    return this;
  }

  copy(src: Binding, dst: Binding, bytes?: number, srcOffset = 0, dstOffset = 0): this {
    const s = 'buffer' in src ? src.buffer : src;
    const t = 'buffer' in dst ? dst.buffer : dst;
    const so = srcOffset + ('buffer' in src ? (src.byteOffset ?? 0) : 0);
    const to = dstOffset + ('buffer' in dst ? (dst.byteOffset ?? 0) : 0);
    const n = bytes ?? ('buffer' in src ? tensorBytes(src.shape, src.dtype) : Math.min(s.size, t.size));
    this.steps.push({ kind: 'copy', src: s, srcOffset: so, dst: t, dstOffset: to, bytes: Math.ceil(n / 4) * 4 });
    return this;
  }

  /** Zeroes `bytes` (a multiple of 4) of a buffer or tensor from its start. */
  clear(dst: Binding, bytes?: number): this {
    const t = 'buffer' in dst ? dst.buffer : dst;
    const offset = 'buffer' in dst ? (dst.byteOffset ?? 0) : 0;
    const n = bytes ?? ('buffer' in dst ? tensorBytes(dst.shape, dst.dtype) : t.size);
    this.steps.push({ kind: 'clear', dst: t, dstOffset: offset, bytes: Math.ceil(n / 4) * 4 });
    return this;
  }

  /** Calls `fn` right after the next submit has reached the queue. */
  afterSubmit(fn: () => void): this {
    this.after.push(fn);
    return this;
  }

  /** Uniform bytes of what is recorded and not yet submitted (256 per dispatch). */
  get uniformBytesRecorded(): number {
    return this.uniformBytes;
  }

  get length(): number {
    return this.steps.length;
  }

  /** Encodes everything recorded so far into one command buffer and submits it. */
  submit(): void {
    this.gpu.assertAlive();
    if (this.steps.length > 0) this.encodeSteps();
    const after = this.after;
    this.after = [];
    for (const fn of after) fn();
  }

  private encodeSteps(): void {
    const { device } = this.gpu;
    if (this.uniformBytes > 0) {
      if (!this.uniformBuffer || this.uniformBuffer.size < this.uniformBytes) {
        if (this.uniformBuffer) this.gpu.pool.release(this.uniformBuffer);
        this.groups.clear();
        // Counted by the pool under `uniforms` like every other buffer (the memory plan counts it).
        this.uniformBuffer = this.gpu.pool.alloc(`uniforms.${this.label}`, uniformBufferBytes(this.uniformBytes), UNIFORM_USAGE);
      }
      const arena = new Uint8Array(this.uniformBytes);
      for (const s of this.steps) if (s.kind === 'dispatch') arena.set(new Uint8Array(s.d.uniforms), s.uniformOffset);
      device.queue.writeBuffer(this.uniformBuffer, 0, arena);
    }
    this.encodeAndSubmit();
    this.steps = [];
    this.uniformBytes = 0;
  }

  private encodeAndSubmit(): void {
    const { device, pipelines } = this.gpu;
    const encoder = device.createCommandEncoder({ label: this.label });
    const profiler = this.gpu.profiler;
    const profiled: { key: PipelineKey; workgroups: number }[] = [];
    let pass: GPUComputePassEncoder | null = null;
    for (const s of this.steps) {
      if (s.kind === 'copy') {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(s.src, s.srcOffset, s.dst, s.dstOffset, s.bytes);
        continue;
      }
      if (s.kind === 'clear') {
        pass?.end();
        pass = null;
        encoder.clearBuffer(s.dst, s.dstOffset, s.bytes);
        continue;
      }
      const timestampWrites = profiler?.timestamps(profiled.length);
      if (timestampWrites) {
        pass?.end();
        pass = encoder.beginComputePass({ label: s.d.label, timestampWrites });
        const [x, y = 1, z = 1] = s.d.workgroups;
        profiled.push({ key: s.d.pipeline, workgroups: x * y * z });
      }
      pass ??= encoder.beginComputePass({ label: this.label });
      const pipeline = pipelines.get(s.d.pipeline);
      const group = this.bindGroup(pipeline, s.d, s.uniformOffset);
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      const [x, y = 1, z = 1] = s.d.workgroups;
      pass.dispatchWorkgroups(x, y, z);
      if (timestampWrites) {
        pass.end();
        pass = null;
      }
    }
    pass?.end();
    const collect = profiler?.finish(encoder, profiled);
    device.queue.submit([encoder.finish()]);
    collect?.();
  }

  private bindGroup(pipeline: GPUComputePipeline, d: Dispatch, uniformOffset: number): GPUBindGroup {
    const uniformSize = Math.max(d.uniforms.byteLength, 16);
    const ranges = d.bindings.map((b) => b && bufferBinding(b));
    const key = `${idOf(pipeline)}:${uniformOffset}:${uniformSize}:${ranges.map((r) => (r ? `${idOf(r.buffer)}@${r.offset ?? 0}+${r.size ?? ''}` : '-')).join(',')}`;
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= MAX_CACHED_GROUPS) this.groups.clear();
      group = this.gpu.device.createBindGroup({
        label: d.label,
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.uniformBuffer!, offset: uniformOffset, size: uniformSize } },
          ...ranges.flatMap((resource, i) => (resource ? [{ binding: i + 1, resource }] : [])),
        ],
      });
      this.groups.set(key, group);
    }
    return group;
  }

  destroy(): void {
    if (this.uniformBuffer) this.gpu.pool.release(this.uniformBuffer);
    this.uniformBuffer = null;
    this.groups.clear();
  }
}

const MAX_CACHED_GROUPS = 8192;
const ids = new WeakMap<object, number>();
let nextId = 1;

/** A stable number for a GPU object, for cache keys. */
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

function bufferBinding(b: Binding): GPUBufferBinding {
  if (!('buffer' in b)) return { buffer: b };
  const size = Math.ceil(tensorBytes(b.shape, b.dtype) / 4) * 4;
  return { buffer: b.buffer, offset: b.byteOffset ?? 0, size: Math.min(size, b.buffer.size - (b.byteOffset ?? 0)) };
}

/** Packs uniform fields in order as 4-byte words: integers as u32 (or i32 when negative), `{f: x}` as f32. */
export function uniforms(...fields: (number | { f: number })[]): ArrayBuffer {
  const n = Math.max(4, Math.ceil(fields.length / 4) * 4);
  const buf = new ArrayBuffer(n * 4);
  const u = new Uint32Array(buf);
  const i = new Int32Array(buf);
  const f = new Float32Array(buf);
  fields.forEach((v, k) => {
    if (typeof v === 'object') f[k] = v.f;
    else if (!Number.isInteger(v)) throw new Error(`uniform ${k} = ${v}: wrap floats as {f: value}.`);
    else if (v < 0) i[k] = v;
    else u[k] = v;
  });
  return buf;
}
