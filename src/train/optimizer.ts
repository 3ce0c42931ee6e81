/**
 * The optimizer of a training run over the flat LoRA buffer: global gradient norm and clip
 * coefficient (torch's clip_grad_norm_), then AdamW or SGD, all recorded into the step's command
 * buffer. The update always reads the GPU-side clip coefficient, which is NaN when some gradient
 * is NaN/Inf: such a step leaves params and moments untouched, with nothing read back first.
 * Given the step's loss, the step guard also halts on a NaN/Inf loss and keeps every later step a
 * no-op until `resume()`: the steps queued behind a broken one change nothing.
 *
 * Buffers (P = params length): m [P], v [P] (AdamW), partials, norm [1], clip [1], halted u32 [1];
 * labelled `train.*`.
 */
import type { Gpu } from '../gpu/device.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { numel, type Tensor } from '../gpu/tensor.ts';
import { gradNorm, gradNormPartials, stepGuard } from '../kernels/grad-norm.ts';
import { adamwStep, sgdStep } from '../kernels/optimizer.ts';
import type { OptimizerKind } from './options.ts';

export interface OptimizerSettings {
  kind: OptimizerKind;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 0 turns clipping off. */
  maxGradNorm: number;
}

export class LoraOptimizer {
  readonly m: Tensor | null;
  readonly v: Tensor | null;
  /** f32 [1]: √Σ g² of the last recorded step (before clipping). */
  readonly norm: Tensor;
  /** f32 [1]: the clip coefficient (NaN when the gradients were not finite). */
  readonly clip: Tensor;
  /** u32 [1]: 1 once a guarded step was not finite; every update is skipped until resume(). */
  readonly halted: Tensor;
  private readonly partials: Tensor;
  private readonly n: number;

  constructor(
    private readonly gpu: Gpu,
    readonly params: Tensor,
    readonly grads: Tensor,
    readonly settings: OptimizerSettings,
  ) {
    this.n = numel(params.shape);
    if (numel(grads.shape) !== this.n) throw new Error(`LoraOptimizer: gradients ${grads.label} have ${numel(grads.shape)} values but params have ${this.n}`);
    const zeros = (label: string, shape: number[]) => gpu.pool.upload(label, shape, 'f32', new Float32Array(numel(shape)));
    this.m = settings.kind === 'adamw' ? zeros('train.adam_m', [...params.shape]) : null;
    this.v = settings.kind === 'adamw' ? zeros('train.adam_v', [...params.shape]) : null;
    this.partials = zeros('train.norm_partials', [gradNormPartials(this.n)]);
    this.norm = zeros('train.grad_norm', [1]);
    this.clip = zeros('train.clip', [1]);
    this.halted = gpu.pool.upload('train.halted', [1], 'u32', new Uint32Array(1));
  }

  /**
   * Records: norm and clip from the gradients, the step guard on `loss` f32 [1] when given, then
   * the update at learning rate `lr`. `step` is 1-based (AdamW's bias correction uses it).
   */
  record(rec: Recorder, lr: number, step: number, loss?: Tensor): void {
    const s = this.settings;
    gradNorm(rec, this.grads, this.partials, this.norm, this.clip, s.maxGradNorm);
    if (loss) stepGuard(rec, { loss, norm: this.norm, clip: this.clip, halted: this.halted });
    if (s.kind === 'adamw') {
      adamwStep(rec, { param: this.params, grad: this.grads, m: this.m!, v: this.v! },
        { lr, step, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay }, this.clip);
    } else {
      sgdStep(rec, { param: this.params, grad: this.grads }, { lr, weightDecay: s.weightDecay }, this.clip);
    }
  }

  /** Clears the step guard's halt (after the trainer rolled its own state back), before the next step is recorded. */
  resume(): void {
    this.gpu.pool.write(this.halted, new Uint32Array(1));
  }

  /** AdamW moments (null for SGD). */
  async readMoments(): Promise<{ m: Float32Array; v: Float32Array } | null> {
    if (!this.m || !this.v) return null;
    const [m, v] = await Promise.all([this.gpu.pool.readF32(this.m), this.gpu.pool.readF32(this.v)]);
    return { m, v };
  }

  /** Restores AdamW moments (from a checkpoint). */
  writeMoments(moments: { m: Float32Array; v: Float32Array }): void {
    if (!this.m || !this.v) throw new Error('the checkpoint holds AdamW moments but this run uses SGD; resume with --optimizer adamw');
    for (const [name, a] of [['m', moments.m], ['v', moments.v]] as const) {
      if (a.length !== this.n) throw new Error(`AdamW moment ${name} has ${a.length} values but the adapter has ${this.n}; the checkpoint belongs to another adapter`);
    }
    this.gpu.pool.write(this.m, moments.m);
    this.gpu.pool.write(this.v, moments.v);
  }

  destroy(): void {
    for (const t of [this.m, this.v, this.partials, this.norm, this.clip, this.halted]) if (t) this.gpu.pool.releaseTensor(t);
  }
}
