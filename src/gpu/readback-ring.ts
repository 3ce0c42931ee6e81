/**
 * A few small mapped staging buffers reused round-robin, for values read back every step (the
 * trainer's loss sum and gradient norm). The copies into a slot are recorded into the caller's own
 * Recorder, so the step's one submit carries them; the slot is mapped right after that submit and
 * its bytes are copied out as soon as the map resolves, after which it is unmapped and free again.
 *
 *   slot: free → recorded (copies recorded, not yet submitted) → mapping → free
 *
 * A slot is never recorded into while it is mapped or waiting for a map (WebGPU rejects a submit
 * that uses such a buffer). With every slot taken, `whenFree()` waits for the oldest map. The
 * buffers come from the pool once, under `readback.<label>`, and are counted by the run plan.
 */
import type { Gpu } from './device.ts';
import { GpuError } from './errors.ts';
import { READBACK_USAGE } from './pool.ts';
import type { Binding, Recorder } from './recorder.ts';

/** Slots of the trainer's metrics ring: one step being read, one queued, one spare. */
export const READBACK_RING_SLOTS = 3;

/** One source range copied into a slot; the ranges are packed in order from byte 0. */
export interface ReadbackPart {
  src: Binding;
  /** A multiple of 4. */
  bytes: number;
  srcOffset?: number;
}

interface Slot {
  buffer: GPUBuffer;
  state: 'free' | 'recorded' | 'mapping';
  /** The read in flight (resolves or rejects, never left unhandled). */
  done: Promise<unknown> | null;
  /** When the slot was last taken, for finding the oldest. */
  taken: number;
}

export class ReadbackRing {
  private readonly slots: Slot[];
  private taken = 0;
  private destroyed = false;

  constructor(
    private readonly gpu: Gpu,
    readonly label: string,
    /** Bytes each slot holds (the sum of the parts of one read). */
    readonly bytes: number,
    readonly size = READBACK_RING_SLOTS,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`readback ring '${label}': ${size} slots; it needs at least 1.`);
    this.slots = Array.from({ length: size }, () => ({
      buffer: gpu.pool.alloc(`readback.${label}`, bytes, READBACK_USAGE),
      state: 'free' as const,
      done: null,
      taken: 0,
    }));
  }

  /** Slots whose read has not come back yet. */
  get inFlight(): number {
    return this.slots.filter((s) => s.state !== 'free').length;
  }

  /** Resolves once a slot is free, waiting for the oldest read in flight when every slot is taken. */
  async whenFree(): Promise<void> {
    while (!this.destroyed && !this.slots.some((s) => s.state === 'free')) {
      const oldest = this.slots.filter((s) => s.state === 'mapping').sort((a, b) => a.taken - b.taken)[0];
      if (!oldest) throw new Error(`readback ring '${this.label}': every slot is recorded but none was submitted; submit the recorder before reading again.`);
      await oldest.done;
    }
    this.assertOpen();
  }

  /**
   * Records the copies of `parts` into a free slot on `rec`; the returned bytes come once `rec` has
   * been submitted and the GPU has run it. Throws when no slot is free (await `whenFree()` first).
   */
  record(rec: Recorder, parts: readonly ReadbackPart[]): Promise<ArrayBuffer> {
    this.assertOpen();
    const total = parts.reduce((n, p) => n + p.bytes, 0);
    if (total > this.bytes) throw new Error(`readback ring '${this.label}': ${total} bytes asked for, a slot holds ${this.bytes}.`);
    const slot = this.slots.find((s) => s.state === 'free');
    if (!slot) throw new Error(`readback ring '${this.label}': all ${this.size} slots are in flight; await whenFree() before recording another read.`);
    slot.state = 'recorded';
    slot.taken = ++this.taken;
    let offset = 0;
    for (const p of parts) {
      rec.copy(p.src, slot.buffer, p.bytes, p.srcOffset ?? 0, offset);
      offset += p.bytes;
    }
    const read = new Promise<ArrayBuffer>((resolve, reject) => {
      rec.afterSubmit(() => {
        slot.state = 'mapping';
        this.map(slot, total).then(resolve, reject);
      });
    });
    slot.done = read.catch(() => undefined);
    return read;
  }

  private async map(slot: Slot, bytes: number): Promise<ArrayBuffer> {
    try {
      await slot.buffer.mapAsync(0x1, 0, slot.buffer.size);
    } catch (e) {
      slot.state = 'free';
      throw await readbackError(this.gpu, this.destroyed ? null : this.label, e);
    }
    if (this.destroyed) throw await readbackError(this.gpu, null, null);
    const out = slot.buffer.getMappedRange(0, slot.buffer.size).slice(0, bytes);
    slot.buffer.unmap();
    slot.state = 'free';
    return out;
  }

  /** Resolves when no read is in flight (failed reads included); for a clean stop. */
  async settled(): Promise<void> {
    await Promise.all(this.slots.filter((s) => s.state === 'mapping').map((s) => s.done));
  }

  private assertOpen(): void {
    this.gpu.assertAlive();
    if (this.destroyed) throw new Error(`readback ring '${this.label}' was closed; create a new one.`);
  }

  /** Destroys the buffers (a read still in flight rejects); they leave the pool's accounting. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const s of this.slots) this.gpu.pool.discard(s.buffer);
  }
}

/**
 * The error of a failed map, worded for a person: the device-lost message when the device is
 * gone (its loss may be reported just after the map fails), else what failed and what to do.
 */
export async function readbackError(gpu: Gpu, label: string | null, cause: unknown): Promise<GpuError> {
  if (!gpu.lostMessage) await new Promise((r) => setTimeout(r, 0));
  if (gpu.lostMessage) return new GpuError(gpu.lostMessage, 'device-lost');
  if (label === null) return new GpuError('the read from the GPU was cancelled because its buffers were closed (the run was stopped).', 'internal');
  const why = cause instanceof Error ? `${cause.name}${cause.message ? `: ${cause.message}` : ''}` : String(cause);
  return new GpuError(`reading '${label}' back from the GPU failed (${why}). Reload the page or restart the command; if it happens again, please report it.`, 'internal');
}
