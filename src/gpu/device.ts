import { GpuError, deviceLostMessage } from './errors.ts';
import { PipelineCache } from './pipelines.ts';
import type { Profiler } from './profiler.ts';
import { BufferPool } from './pool.ts';
import { Recorder } from './recorder.ts';

/** Storage buffers one kernel may bind (WebGPU's default limit per shader stage). */
export const MAX_STORAGE_BUFFERS = 8;

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  shaderF16: boolean;
  /**
   * Whether the device has WebGPU's `subgroups` feature together with WGSL's `subgroup_id`
   * built-ins (both are needed by the subgroup kernels), and the subgroup sizes the adapter
   * reports: a dispatch may run at any power of two between them.
   */
  subgroups: boolean;
  subgroupMinSize: number;
  subgroupMaxSize: number;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

export interface GpuOptions {
  /** Smallest buffer and binding sizes the work needs; the adapter's maximum is requested regardless. */
  minBufferSize?: number;
  powerPreference?: GPUPowerPreference;
  /** Binds at most this many bytes at once even where the adapter allows more (as a GPU at WebGPU's default 128 MiB does). */
  maxStorageBufferBindingSize?: number;
  /** false: do not request the `subgroups` feature even where the adapter has it (every kernel takes its workgroup-memory path). */
  subgroups?: boolean;
}

/** One WebGPU device with its buffer pool and pipeline cache; the same in the browser and Node. */
export class Gpu {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  lostMessage: string | null = null;
  /** When set, every dispatch is timed (see profiler.ts). */
  profiler: Profiler | null = null;
  private readonly errors: string[] = [];
  /**
   * Which kernel long contractions (K ≥ 256) run on: 'tiled' (shaders/matmul.wgsl, workgroup memory
   * and barriers) or 'direct' (shaders/matmul_direct.wgsl, barrier-free). CPU implementations of
   * WebGPU pay for a barrier by switching every invocation, so they run every product direct; the
   * tests set it to reach the other kernel.
   */
  longMatmul: 'tiled' | 'direct';
  /** Most threads across the columns of a direct-kernel workgroup (its tile is 8·maxTx wide). */
  matmulMaxTx = 16;
  /** Whether aligned direct products read four elements per load (shaders/matmul_vec4.wgsl). */
  matmulVec4 = true;
  /**
   * x·Wᵀ with at most 8 rows (token-by-token generation) runs on shaders/matmul_rows.wgsl, which
   * streams the weight once for all rows; false runs it on the general kernels (the benchmark and
   * the tests compare the two).
   */
  rowsMatmul = true;
  /**
   * With subgroups, rows of up to this many values are reduced by one subgroup each (no workgroup
   * memory, no barrier), longer ones by a whole workgroup (shaders/rows_subgroups.wgsl). CPU
   * implementations pay for every workgroup and barrier, so they put every row on a subgroup
   * (bench/reductions.ts: fastest at every width measured there); GPUs keep a subgroup's lanes
   * to about 64 values each of a 2048-wide row and give wider rows a workgroup for more threads in
   * flight. The tests set it to reach the other layout.
   */
  subgroupRowMax: number;
  /**
   * Rows of up to this many values keep rows.wgsl's barrier-free thread per row even with
   * subgroups, where a kernel has one (RMSNorm up to C = 256): 256 on CPU adapters, where the
   * subgroup path measured no faster (0.35–1.8× at C = 64–256, bench/reductions.ts), 0 on GPUs,
   * where a thread per row reads memory uncoalesced. The tests set it to reach the subgroup path.
   */
  threadRowMax: number;
  private useSubgroups: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
  ) {
    this.longMatmul = cpuAdapter(adapter) ? 'direct' : 'tiled';
    this.subgroupRowMax = cpuAdapter(adapter) ? Infinity : 2048;
    this.threadRowMax = cpuAdapter(adapter) ? 256 : 0;
    this.useSubgroups = adapter.subgroups;
    this.pool = new BufferPool(device, device.limits.maxStorageBufferBindingSize);
    this.pipelines = new PipelineCache(device);
    device.lost.then((info) => {
      this.lostMessage = deviceLostMessage(info.reason, info.message);
    });
    // Error scopes around submissions crash Dawn's Node binding; uncaptured errors are collected
    // here instead and raised by `sync`.
    device.addEventListener('uncapturederror', (e) => {
      const error = (e as GPUUncapturedErrorEvent).error;
      const oom = error.constructor?.name === 'GPUOutOfMemoryError' || /out of memory/i.test(error.message);
      this.errors.push(oom ? `out of memory: ${error.message}` : error.message);
    });
  }

  /** shaderF16: the device has `shader-f16`; subgroups: the reduction kernels run their subgroup paths (see `subgroups`). */
  get features(): { shaderF16: boolean; subgroups: boolean } {
    return { shaderF16: this.device.features.has('shader-f16'), subgroups: this.useSubgroups };
  }

  /**
   * Whether norms, cross-entropy and the gradient norm reduce with subgroup operations (where the
   * device has them; on by default) or through workgroup memory. The tests switch it to run both
   * paths on one device; set it between recordings, not while a recorder holds dispatches.
   */
  get subgroups(): boolean {
    return this.useSubgroups;
  }

  set subgroups(on: boolean) {
    if (on && !this.adapter.subgroups) {
      throw new GpuError(
        `${adapterName(this.adapter)} has no WebGPU subgroups (or its WGSL lacks subgroup_id): the kernels can only reduce through workgroup memory here.`,
        'limits',
      );
    }
    this.useSubgroups = on;
  }

  recorder(label: string): Recorder {
    return new Recorder(this, label);
  }

  assertAlive(): void {
    if (this.lostMessage) throw new GpuError(this.lostMessage, 'device-lost');
  }

  /** Waits for all submitted work, then throws the first GPU error seen (validation, out of memory). */
  async sync(context = 'GPU work'): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.assertAlive();
    if (this.errors.length) {
      const all = this.errors.splice(0).join('\n');
      const kind = all.includes('out of memory') ? 'out-of-memory' : 'validation';
      const hint =
        kind === 'out-of-memory'
          ? ' The GPU ran out of memory: try a smaller batch size, sequence length, rank or model.'
          : ' This is a bug in tsugiki; please report it with the text above.';
      throw new GpuError(`${context} failed on the GPU: ${all}.${hint}`, kind);
    }
  }

  destroy(): void {
    this.pool.destroy();
    this.device.destroy();
  }
}

/** Requests an adapter and a device with the limits the engine needs (the adapter's maximum buffer sizes). */
export async function createGpu(gpu: GPU, options: GpuOptions = {}): Promise<Gpu> {
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuError(
      'No WebGPU adapter was found. In a browser, update the graphics driver and check chrome://gpu; in Node on Linux, ' +
        'install Vulkan (Debian: apt-get install libvulkan1 chromium, which brings the SwiftShader CPU driver).',
      'no-adapter',
    );
  }
  const l = adapter.limits;
  const need = options.minBufferSize ?? 0;
  if (need > l.maxStorageBufferBindingSize) {
    throw new GpuError(
      `This work needs ${need} bytes in one GPU buffer but this GPU allows ${l.maxStorageBufferBindingSize}.`,
      'limits',
    );
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  // The subgroup kernels index workgroup memory by subgroup_id, a WGSL language feature of its own.
  const subgroupsWanted = options.subgroups !== false && adapter.features.has('subgroups') && (gpu.wgslLanguageFeatures?.has('subgroup_id') ?? false);
  if (subgroupsWanted) requiredFeatures.push('subgroups');
  const device = await adapter.requestDevice({
    label: 'tsugiki',
    requiredFeatures,
    requiredLimits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: Math.min(l.maxStorageBufferBindingSize, options.maxStorageBufferBindingSize ?? Infinity),
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      // WebGPU's default, which every adapter has: no kernel binds more, and asking for no more
      // keeps a kernel that would from passing on an adapter that happens to allow it.
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, MAX_STORAGE_BUFFERS),
    },
  });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  return new Gpu(device, {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    shaderF16: device.features.has('shader-f16'),
    subgroups: subgroupsWanted && device.features.has('subgroups'),
    subgroupMinSize: subgroupSize(info, 'subgroupMinSize'),
    subgroupMaxSize: subgroupSize(info, 'subgroupMaxSize'),
    maxBufferSize: device.limits.maxBufferSize,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
  });
}

/** A subgroup size from the adapter's info; 4 and 128 (WebGPU's bounds) where the browser does not say. */
function subgroupSize(info: GPUAdapterInfo, key: 'subgroupMinSize' | 'subgroupMaxSize'): number {
  const v = info[key];
  return typeof v === 'number' && v >= 1 ? v : key === 'subgroupMinSize' ? 4 : 128;
}

/** Whether the adapter is WebGPU on the CPU (SwiftShader, Mesa's llvmpipe / lavapipe, Windows WARP). */
export function cpuAdapter(a: AdapterSummary): boolean {
  return /swiftshader|llvmpipe|lavapipe|\bwarp\b|microsoft basic render/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}

export function adapterName(a: AdapterSummary): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed WebGPU adapter';
}
