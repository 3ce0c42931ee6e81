import { createGpu, type Gpu, type GpuOptions } from './device.ts';
import { GpuError, NO_WEBGPU_HELP } from './errors.ts';
import { registerShaders } from './shaders.ts';

registerShaders(import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>);

/** A WebGPU device in the browser (page or worker). */
export async function createBrowserGpu(options: GpuOptions = {}): Promise<Gpu> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new GpuError(NO_WEBGPU_HELP, 'no-webgpu');
  return createGpu(gpu, options);
}
