import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGpu, type Gpu, type GpuOptions } from './device.ts';
import { GpuError } from './errors.ts';
import { registerShaders } from './shaders.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

let instance: GPU | null = null;

/** Dawn's GPU object once createNodeGpu has run (other WebGPU libraries in the process can share its adapters). */
export function dawnGpu(): GPU | null {
  return instance;
}

/** Loads every shaders/*.wgsl from disk. */
export function loadShadersFromDisk(dir = SHADER_DIR): void {
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir)) if (f.endsWith('.wgsl')) files[f] = readFileSync(dir + f, 'utf8');
  registerShaders(files);
}

/**
 * A WebGPU device in Node through Dawn (the `webgpu` package). Without a Vulkan driver named in
 * VK_ICD_FILENAMES, Chromium's SwiftShader (a CPU implementation) is used when it is installed.
 * TSUGIKI_NO_SUBGROUPS=1 leaves WebGPU's subgroups off (every reduction through workgroup memory).
 */
export async function createNodeGpu(options: GpuOptions = {}): Promise<Gpu> {
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD) && process.env.TSUGIKI_GPU !== 'system') {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new GpuError(`The 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Run npm install.`, 'no-webgpu');
  }
  Object.assign(globalThis, mod.globals);
  loadShadersFromDisk();
  // Dawn tears its instance down when the GPU object is collected, even with devices alive: keep it.
  instance ??= mod.create([]) as GPU;
  return createGpu(instance, { subgroups: process.env.TSUGIKI_NO_SUBGROUPS !== '1', ...options });
}
