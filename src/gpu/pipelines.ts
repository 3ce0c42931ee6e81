import { shaderSource } from './shaders.ts';

export interface PipelineKey {
  /** Shader basenames concatenated in order, shared helpers first: `['common', 'matmul']`. */
  shaders: readonly string[];
  entry: string;
  /** WGSL `override` constants: the only thing that varies a compiled pipeline. */
  constants?: Record<string, number>;
  /**
   * The module uses subgroup operations: `enable subgroups; requires subgroup_id;` goes before the
   * sources. Only for a device with the feature (Gpu.subgroups); kernels pick their subgroup
   * shader files and set this together.
   */
  subgroups?: boolean;
}

/** The directives a module with subgroup operations starts with. */
export const SUBGROUP_DIRECTIVES = 'enable subgroups;\nrequires subgroup_id;\n';

/** The WGSL of a pipeline's module: its shaders in order, after the directives its key asks for. */
export function moduleSource(key: PipelineKey): string {
  return (key.subgroups ? SUBGROUP_DIRECTIVES : '') + shaderSource(key.shaders);
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
    const moduleId = `${key.shaders.join('+')}${key.subgroups ? '+subgroups' : ''}`;
    const id = `${moduleId}:${key.entry}:${Object.entries(constants).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
    let pipeline = this.pipelines.get(id);
    if (pipeline) return pipeline;
    let module = this.modules.get(moduleId);
    if (!module) {
      if (key.subgroups && !this.device.features.has('subgroups')) {
        throw new Error(`${key.entry}: the pipeline uses subgroup operations but the device was created without the 'subgroups' feature.`);
      }
      module = this.device.createShaderModule({ label: moduleId, code: moduleSource(key) });
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
