import type { PipelineKey } from './pipelines.ts';

const MAX_QUERIES = 4096;

export interface ProfileRow {
  kernel: string;
  count: number;
  ms: number;
  workgroups: number;
}

/**
 * GPU time per kernel from timestamp queries. While a profiler is attached to a Gpu, the recorder
 * gives every dispatch its own compute pass with timestamps (slower: for measuring, not training).
 */
export class Profiler {
  private readonly rows = new Map<string, ProfileRow>();
  private readonly pending: Promise<void>[] = [];
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;

  constructor(private readonly device: GPUDevice) {
    if (!device.features.has('timestamp-query')) throw new Error('This GPU does not offer timestamp queries, which profiling needs.');
    this.querySet = device.createQuerySet({ label: 'profiler.queries', type: 'timestamp', count: MAX_QUERIES });
    this.resolve = device.createBuffer({ label: 'profiler.resolve', size: MAX_QUERIES * 8, usage: 0x200 | 0x4 }); // QUERY_RESOLVE | COPY_SRC
  }

  /** Timestamp writes for the i-th dispatch of a submission, or undefined past the query budget. */
  timestamps(i: number): GPUComputePassTimestampWrites | undefined {
    if (2 * i + 1 >= MAX_QUERIES) return undefined;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Resolves the timestamps of `kernels` (in dispatch order) at the end of the encoder. */
  finish(encoder: GPUCommandEncoder, kernels: { key: PipelineKey; workgroups: number }[]): () => void {
    const n = Math.min(kernels.length, MAX_QUERIES / 2);
    if (n === 0) return () => undefined;
    const readback = this.device.createBuffer({ label: 'profiler.readback', size: n * 16, usage: 0x1 | 0x8 });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, readback, 0, n * 16);
    return () => {
      this.pending.push(
        readback.mapAsync(0x1).then(() => {
          const t = new BigInt64Array(readback.getMappedRange());
          for (let i = 0; i < n; i++) {
            const name = kernelName(kernels[i].key);
            const row = this.rows.get(name) ?? { kernel: name, count: 0, ms: 0, workgroups: 0 };
            row.count++;
            row.ms += Number(t[2 * i + 1] - t[2 * i]) / 1e6;
            row.workgroups += kernels[i].workgroups;
            this.rows.set(name, row);
          }
          readback.unmap();
          readback.destroy();
        }),
      );
    };
  }

  /** Totals per kernel, most expensive first, once all profiled work has finished. */
  async report(): Promise<ProfileRow[]> {
    await Promise.all(this.pending.splice(0));
    return [...this.rows.values()].sort((a, b) => b.ms - a.ms);
  }

  reset(): void {
    this.rows.clear();
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
  }
}

function kernelName(key: PipelineKey): string {
  const c = Object.entries(key.constants ?? {})
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${key.shaders[key.shaders.length - 1]}:${key.entry}${c ? `(${c})` : ''}`;
}
