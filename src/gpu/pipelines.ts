import { shaderSource } from './shaders.ts';

export interface PipelineKey {
  /** Shader basenames concatenated in order, shared helpers first: `['common', 'matmul']`. */
  shaders: readonly string[];
  entry: string;
  /** WGSL `override` constants: the only thing that varies a compiled pipeline. */
  constants?: Record<string, number>;
}

/** Compute pipelines built once per (shaders, entry point, constants) and reused by every dispatch. */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(key: PipelineKey): GPUComputePipeline {
    const constants = key.constants ?? {};
    const id = `${key.shaders.join('+')}:${key.entry}:${Object.entries(constants).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
    let pipeline = this.pipelines.get(id);
    if (pipeline) return pipeline;
    const moduleId = key.shaders.join('+');
    let module = this.modules.get(moduleId);
    if (!module) {
      module = this.device.createShaderModule({ label: moduleId, code: shaderSource(key.shaders) });
      this.modules.set(moduleId, module);
    }
    pipeline = this.device.createComputePipeline({
      label: id,
      layout: 'auto',
      compute: { module, entryPoint: key.entry, constants },
    });
    this.pipelines.set(id, pipeline);
    return pipeline;
  }
}
