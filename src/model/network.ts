/**
 * The whole network on the GPU: frozen weights, the memory plan, LoRA parameters and gradients in
 * one flat f32 buffer each (laid out by the AdapterLayout), and the recorded forward/backward of a
 * batch. The trainer drives it through recordStep; tests and eval read logits; generate.ts drives
 * recordTokens with a KV cache.
 */
import type { Gpu } from '../gpu/device.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { viewOf, type Tensor } from '../gpu/tensor.ts';
import type { Batch } from '../data/batch.ts';
import { slotBlocks, type AdapterLayout, type LayoutEntry, type MatrixSlot } from '../lora/layout.ts';
import type { ModelConfig } from './config.ts';
import { ropeInvFreq } from './rope.ts';
import type { LoadedModel } from './load-source.ts';
import { layerPrefix, layerProjections, type Projection } from './modules.ts';
import { moduleSeed, type LinearSite } from './forward-linear.ts';
import { headChunks, recordBackward, recordBlocks, recordForward, recordHeadChunk } from './forward.ts';
import { uploadWeights, type GpuWeights } from './gpu-weights.ts';
import { positionsFromMask, stageInputs, type StepInputs } from './network-inputs.ts';
import { Activations, planMemory, type MemoryPlan } from './plan.ts';
import type { KvCache, StepContext } from './step-context.ts';

export interface NetworkOptions {
  /** B */
  maxBatch: number;
  /** T (the plan is sized for B×T; a larger batch is a rebuild) */
  maxSeq: number;
  /** Keep activations for backward. */
  training: boolean;
  adapter: { layout: AdapterLayout; scale: number; dropout: number } | null;
  /** Training: recompute block forwards in backward, keeping every k-th block input (plan.ts); 0 or absent keeps every activation. */
  recompute?: number;
  /** Rows of the LM head at once (default: plan.ts headChunkRows). */
  headRows?: number;
  /** Frozen weights bigger than this are stored in row windows (default: the device's binding limit). */
  maxWeightBinding?: number;
}

interface StepSettings {
  backward: boolean;
  dropoutSeed: number;
}

export class Network {
  readonly config: ModelConfig;
  memory: { weightsBytes: number; activationBytes: number; adapterBytes: number };
  readonly loraParams: Tensor | null = null;
  readonly loraGrads: Tensor | null = null;
  /** Multiplies the LoRA scale at inference (forward without backward); training uses the plain scale. */
  adapterStrength = 1;
  readonly lossSum: Tensor;
  private acts: Activations;
  private lastRows = 0;
  private staging: GPUBuffer[] = [];
  private readonly invFreq: Float32Array | null;
  private readonly invFreqLocal: Float32Array | null;
  private readonly entries = new Map<string, { entry: LayoutEntry; index: number }>();
  private readonly projections: Map<string, Projection>;

  private constructor(
    readonly gpu: Gpu,
    readonly model: LoadedModel,
    readonly weights: GpuWeights,
    readonly opts: NetworkOptions,
  ) {
    this.config = model.config;
    const c = this.config;
    this.projections = new Map(layerProjections(c).map((p) => [p.path, p]));
    this.invFreq = c.rope ? Float32Array.from(ropeInvFreq(c)) : null;
    this.invFreqLocal = c.ropeLocal ? Float32Array.from(ropeInvFreq({ rope: c.ropeLocal })) : null;
    const layout = opts.adapter?.layout ?? null;
    let adapterBytes = 0;
    if (layout) {
      layout.entries.forEach((entry, index) => this.entries.set(entry.name, { entry, index }));
      this.loraParams = gpu.pool.tensor('adapter.params', [layout.totalFloats]);
      adapterBytes += this.loraParams.buffer.size;
      if (opts.training) {
        this.loraGrads = gpu.pool.tensor('adapter.grads', [layout.totalFloats]);
        adapterBytes += this.loraGrads.buffer.size;
      }
    }
    this.lossSum = gpu.pool.tensor('loss.sum', [1]);
    gpu.device.queue.writeBuffer(this.lossSum.buffer, 0, new Uint8Array(this.lossSum.buffer.size));
    if (this.loraGrads) gpu.device.queue.writeBuffer(this.loraGrads.buffer, 0, new Uint8Array(this.loraGrads.buffer.size));
    if (this.loraParams) gpu.device.queue.writeBuffer(this.loraParams.buffer, 0, new Uint8Array(this.loraParams.buffer.size));
    this.acts = this.newActivations(opts.maxBatch, opts.maxSeq, opts.training);
    this.memory = { weightsBytes: weights.bytes, activationBytes: this.acts.plan.activationBytes, adapterBytes };
  }

  static async create(gpu: Gpu, model: LoadedModel, opts: NetworkOptions): Promise<Network> {
    const weights = uploadWeights(gpu, model.config, model.weights, opts.maxWeightBinding);
    const net = new Network(gpu, model, weights, opts);
    await gpu.sync(`loading ${model.source} onto the GPU`);
    return net;
  }

  /** The plan of the network's own activations. */
  get plan(): MemoryPlan {
    return this.acts.plan;
  }

  /** A memory plan for B×T, allocated (the caller destroys it unless it is the network's own). */
  newActivations(B: number, T: number, training: boolean): Activations {
    const rank = this.opts.adapter ? this.opts.adapter.layout.rank : null;
    const o = this.opts;
    return new Activations(this.gpu, planMemory(this.config, { B, T, training, rank, adapted: new Set(this.entries.keys()), recompute: o.recompute ?? 0, headRows: o.headRows }));
  }

  private ensurePlan(B: number, T: number): void {
    const p = this.acts.plan;
    if (B <= p.B && T <= p.T) return;
    this.acts.destroy();
    this.acts = this.newActivations(Math.max(B, p.B), Math.max(T, p.T), p.training);
    this.memory = { ...this.memory, activationBytes: this.acts.plan.activationBytes };
  }

  setAdapterParams(params: Float32Array): void {
    if (!this.loraParams) throw new Error('setAdapterParams: this network was created without an adapter.');
    const n = this.loraParams.shape[0];
    if (params.length !== n) throw new Error(`setAdapterParams: ${params.length} values given but the adapter layout has ${n} floats.`);
    this.gpu.pool.write(this.loraParams, params);
  }

  async readAdapterParams(): Promise<Float32Array> {
    if (!this.loraParams) throw new Error('readAdapterParams: this network was created without an adapter.');
    return this.gpu.pool.readF32(this.loraParams);
  }

  recordZeroLoss(rec: Recorder): void {
    this.releaseStaging();
    rec.clear(this.lossSum);
  }

  recordZeroGrads(rec: Recorder): void {
    if (this.loraGrads) rec.clear(this.loraGrads);
  }

  /** Per-token losses of the last recordStep: f32 [B·T] (0 where not counted). */
  get tokenLoss(): Tensor {
    return this.acts.get('tokenLoss', [this.lastRows]);
  }

  /** The activations of the current plan (for tests and tools that read intermediate tensors). */
  get activations(): Activations {
    return this.acts;
  }

  recordStep(rec: Recorder, batch: Batch, o: { backward: boolean; lossScale: number; dropoutSeed: number }): void {
    if (o.backward && !this.opts.training) throw new Error('recordStep: backward needs a network created with training: true.');
    if (o.backward && !this.loraGrads) throw new Error('recordStep: backward needs an adapter: the frozen weights get no gradient.');
    this.ensurePlan(batch.B, batch.T);
    const ctx = this.context(rec, this.acts, batchInputs(batch), null, { backward: o.backward, dropoutSeed: o.dropoutSeed });
    recordForward(ctx, { loss: { lossSum: this.lossSum }, lastOnly: false, backwardScale: o.backward ? o.lossScale : undefined });
    if (o.backward) recordBackward(ctx);
    this.lastRows = batch.B * batch.T;
  }

  /** Logits for every position of a batch (inference): f32 [B, T, V], read back one head chunk at a time. */
  async logits(batch: Batch): Promise<Float32Array> {
    this.ensurePlan(batch.B, batch.T);
    const V = this.config.vocabSize;
    const out = new Float32Array(batch.B * batch.T * V);
    const rec = this.gpu.recorder('logits');
    try {
      const ctx = this.context(rec, this.acts, batchInputs(batch), null, { backward: false, dropoutSeed: 0 });
      recordBlocks(ctx);
      for (const chunk of headChunks(ctx)) {
        const logits = recordHeadChunk(ctx, chunk, { loss: false });
        rec.submit();
        out.set(await this.gpu.pool.readF32(logits), chunk.r0 * V);
      }
      await this.gpu.sync('forward');
    } finally {
      rec.destroy();
      this.releaseStaging();
    }
    return out;
  }

  /**
   * Records the forward of tokens [1, T] of one sequence on `acts` (a plan with B = 1), appending
   * to the KV cache at its `past`; returns the logits of the last position [1, V], or all [T, V].
   */
  recordTokens(rec: Recorder, acts: Activations, tokens: number[], cache: KvCache | null, lastOnly: boolean): Tensor {
    const T = tokens.length;
    const past = cache ? cache.past : 0;
    const inputs: StepInputs = {
      B: 1, T, ids: Int32Array.from(tokens), positions: Int32Array.from(tokens, (_, t) => past + t),
      keyMask: new Uint32Array(T).fill(1), targets: new Int32Array(T).fill(-1),
    };
    const ctx = this.context(rec, acts, inputs, cache, { backward: false, dropoutSeed: 0 });
    return recordForward(ctx, { loss: null, lastOnly });
  }

  /** Returns staging buffers of steps recorded before; call only after those steps were submitted. */
  releaseStaging(): void {
    for (const b of this.staging) this.gpu.pool.release(b);
    this.staging = [];
  }

  private context(rec: Recorder, acts: Activations, inp: StepInputs, cache: KvCache | null, s: StepSettings): StepContext {
    const { B, T } = inp;
    const N = B * T;
    const ids = acts.get('ids', [N], 'i32');
    const positions = acts.get('positions', [N], 'i32');
    const keyMask = acts.get('keyMask', [B, T], 'u32');
    const targets = acts.get('targets', [N], 'i32');
    this.staging.push(stageInputs(this.gpu, rec, inp, { ids, positions, keyMask, targets }));
    return {
      rec, config: this.config, weights: this.weights, acts, B, T, ids, positions, keyMask, targets,
      invFreq: this.invFreq, invFreqLocal: this.invFreqLocal, cache, rank: this.opts.adapter ? this.opts.adapter.layout.rank : null,
      site: (l, path) => this.site(acts, l, path, N, s),
    };
  }

  /** Projection `path` of layer l: its frozen weights (views for a fused module's row blocks) and LoRA pair (B's row block). */
  private site(acts: Activations, l: number, path: string, N: number, s: StepSettings): LinearSite {
    const prefix = layerPrefix(this.config, l);
    const name = prefix + path;
    const proj = this.projections.get(path);
    if (!proj) throw new Error(`network: ${this.config.arch} blocks have no projection '${path}'.`);
    const w = this.weights.get(`${name}.weight`);
    const bias = this.weights.has(`${name}.bias`) ? this.weights.get(`${name}.bias`) : undefined;
    const found = this.entries.get(prefix + proj.module.path);
    if (!found || !this.opts.adapter) return { name, w, bias, lora: null };
    const { entry, index } = found;
    const R = entry.a.shape[0];
    const bSlot = slotBlocks(entry.b)[proj.block];
    const view = (t: Tensor, label: string, slot: MatrixSlot) => viewOf(t.buffer, `${t.label}.${name}.${label}`, slot.shape, 'f32', slot.offset * 4);
    return {
      name, w, bias,
      lora: {
        a: view(this.loraParams!, 'A', entry.a),
        b: view(this.loraParams!, 'B', bSlot),
        da: this.loraGrads ? view(this.loraGrads, 'A', entry.a) : undefined,
        db: this.loraGrads ? view(this.loraGrads, 'B', bSlot) : undefined,
        h: acts.layer(l, `h.${path}`, [N, R]),
        scale: this.opts.adapter.scale * (s.backward ? 1 : this.adapterStrength),
        dropout: s.backward ? this.opts.adapter.dropout : 0,
        seed: moduleSeed(s.dropoutSeed, index),
        split: s.backward && acts.plan.splitFloats > 0 ? acts.get('grad.split', [acts.plan.splitFloats]) : undefined,
      },
    };
  }

  destroy(): void {
    this.releaseStaging();
    this.acts.destroy();
    this.weights.destroy();
    for (const t of [this.loraParams, this.loraGrads, this.lossSum]) if (t) this.gpu.pool.releaseTensor(t);
  }
}

/** A Batch (src/data/batch.ts) as step inputs: keyMask from attentionMask, positions from it. */
export function batchInputs(batch: Batch): StepInputs {
  const { B, T } = batch;
  return {
    B, T, ids: batch.inputIds, targets: batch.targets,
    keyMask: Uint32Array.from(batch.attentionMask), positions: positionsFromMask(batch.attentionMask, B, T),
  };
}
