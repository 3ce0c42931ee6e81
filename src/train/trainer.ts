/**
 * The LoRA training loop on the GPU network. One optimizer step is recorded and submitted once:
 *
 *   snapshot params → zero grads and loss → for each micro-batch of the accumulation:
 *   forward + backward (lossScale = 1 / answer tokens of the whole accumulated batch, so the
 *   gradient is that of HF's mean loss) → grad norm + clip → AdamW/SGD → copy loss sum and norm.
 *
 * The loss and the norm are read back one step late (the next step is already queued when the
 * trainer waits), so the GPU never idles on a readback. A NaN/Inf gradient makes the optimizer skip
 * its update on the GPU; when the loss or norm of step n is found non-finite the params are
 * restored from the snapshot taken before step n (two snapshots alternate, because step n+1 has
 * been queued by then) and the run stops with a message.
 */
import type { Row } from '../data/dataset.ts';
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { loraScale, validateAdapterConfig } from '../lora/config.ts';
import { initAdapter } from '../lora/init.ts';
import { planAdapterLayout, type AdapterLayout } from '../lora/layout.ts';
import { adapterModules } from '../lora/modules.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { Network } from '../model/network.ts';
import { checkResumable, dataFingerprint, modelFingerprint, type Checkpoint, type TrainState } from './checkpoint.ts';
import { BatchStream, prepareTrainData, totalSteps, type TrainData } from './data.ts';
import { evalBatches, labelAccuracy, meanLoss } from './evaluate.ts';
import type { EvalEvent, StopReason, TrainHooks, TrainResult } from './events.ts';
import { trainPlan } from './memory-plan.ts';
import { LoraOptimizer } from './optimizer.ts';
import { validateTrainOptions, type TrainOptions } from './options.ts';
import { lrAt, warmupSteps, type Schedule } from './schedule.ts';
import { nonFiniteMessage, Pending } from './step-readback.ts';
import type { Recorder } from '../gpu/recorder.ts';

export interface TrainerInit {
  /** Start from these adapter params (e.g. --init-adapter) instead of PEFT's initialisation. */
  params?: Float32Array;
  /** Continue a run: options, params, moments, best adapter and data position come from it. */
  checkpoint?: Checkpoint;
}

/** A u32 dropout seed per (run seed, step, micro-batch). */
export function dropoutSeed(seed: number, step: number, micro: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x85ebca6b, 0xc2b2ae35);
  h = Math.imul(h ^ (step + 1), 0x27d4eb2f);
  h = Math.imul(h ^ (micro + 1), 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}

const now = () => performance.now();

export class Trainer {
  readonly schedule: Schedule;
  readonly evalEvery: number;
  private readonly snapshots: [Tensor, Tensor];
  private readonly best: Tensor;
  private readonly metrics: Tensor;
  /** One recorder for the whole run: its uniform buffer and bind groups are reused every step. */
  private readonly rec: Recorder;
  private hasBest: boolean;

  private constructor(
    readonly gpu: Gpu,
    readonly model: LoadedModel,
    readonly rows: Row[],
    readonly options: TrainOptions,
    readonly data: TrainData,
    readonly layout: AdapterLayout,
    readonly net: Network,
    readonly optimizer: LoraOptimizer,
    readonly state: TrainState,
    private readonly stream: BatchStream,
    best: Float32Array | null,
  ) {
    const S = state.totalSteps;
    this.schedule = { kind: options.schedule, lr: options.lr, warmupSteps: warmupSteps(options.warmup, S), totalSteps: S };
    this.evalEvery = options.evalEvery ?? Math.max(1, Math.round(S / 10));
    const P = layout.totalFloats;
    this.snapshots = [gpu.pool.tensor('train.snapshot_a', [P]), gpu.pool.tensor('train.snapshot_b', [P])];
    this.best = gpu.pool.tensor('train.best', [P]);
    if (best) gpu.pool.write(this.best, best);
    this.hasBest = best !== null;
    this.metrics = gpu.pool.tensor('train.metrics', [2]);
    this.rec = gpu.recorder('train.step');
  }

  static async create(gpu: Gpu, model: LoadedModel, rows: Row[], options: TrainOptions, init: TrainerInit = {}): Promise<Trainer> {
    const ck = init.checkpoint;
    if (ck) checkResumable(ck, model.config, rows);
    const o = ck ? ck.options : options;
    validateAdapterConfig(o.adapter, model.config);
    validateTrainOptions(o, model.config.maxPositions);
    const data = prepareTrainData(rows, model.tokenizer, { seqLen: o.seqLen, valSplit: o.valSplit, seed: o.seed });
    const layout = planAdapterLayout(adapterModules(model.config, o.adapter), o.adapter.rank);
    const params = ck?.params ?? init.params ?? initAdapter(layout, o.adapter);
    if (params.length !== layout.totalFloats) {
      throw new Error(`the starting adapter has ${params.length} parameters but rank ${o.adapter.rank} on these modules needs ${layout.totalFloats}; use an adapter trained with the same settings`);
    }
    const plan = trainPlan({ config: model.config, weights: model.weights, maxBindingBytes: gpu.adapter.maxStorageBufferBindingSize }, o);
    const net = await Network.create(gpu, model, {
      maxBatch: o.batchSize,
      maxSeq: o.seqLen,
      training: true,
      adapter: { layout, scale: loraScale(o.adapter), dropout: o.adapter.dropout },
      recompute: plan.recompute,
    });
    net.setAdapterParams(params);
    const optimizer = new LoraOptimizer(gpu, net.loraParams!, net.loraGrads!, {
      kind: o.optimizer, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm,
    });
    if (ck?.adam) optimizer.writeMoments(ck.adam);
    const state: TrainState = ck ? structuredClone(ck.state) : {
      step: 0, totalSteps: totalSteps(data.train.length, o), cursor: { epoch: 0, batch: 0 },
      bestValLoss: null, bestStep: null, evalsSinceBest: 0, elapsedS: 0, tokens: 0,
    };
    const stream = new BatchStream(data.train, { ...o, padId: data.padId }, { ...state.cursor });
    return new Trainer(gpu, model, rows, o, data, layout, net, optimizer, state, stream, ck?.best ?? null);
  }

  /** Records and submits optimizer step `state.step` (0-based); returns its pending readback. */
  private submitStep(): Pending {
    const step = this.state.step;
    const batches = this.stream.nextStep();
    const tokens = batches.reduce((n, b) => n + b.tokenCount, 0);
    const lr = lrAt(this.schedule, step);
    const rec = this.rec;
    rec.copy(this.net.loraParams!, this.snapshots[step % 2]);
    this.net.recordZeroGrads(rec);
    this.net.recordZeroLoss(rec);
    batches.forEach((b, i) => {
      this.net.recordStep(rec, b, { backward: true, lossScale: tokens > 0 ? 1 / tokens : 0, dropoutSeed: dropoutSeed(this.options.seed, step, i) });
    });
    this.optimizer.record(rec, lr, step + 1);
    rec.copy(this.net.lossSum, this.metrics, 4, 0, 0);
    rec.copy(this.optimizer.norm, this.metrics, 4, 0, 4);
    rec.submit();
    this.state.step = step + 1;
    this.state.cursor = { ...this.stream.cursor };
    const realTokens = batches.reduce((n, b) => n + b.attentionMask.reduce((a, x) => a + x, 0), 0);
    return new Pending(step + 1, lr, tokens, realTokens, this.stream.epochProgress(), this.gpu.pool.read(this.metrics));
  }

  /** Runs until the planned steps are done, or a hook, early stopping or a non-finite value stops it. */
  async run(hooks: TrainHooks = {}): Promise<TrainResult> {
    const start = now();
    let paused = 0;
    let sessionTokens = 0;
    let pending: Pending | null = null;
    let reason: StopReason = 'done';
    let message: string | null = null;
    let lastLoss: number | null = null;
    let lastEval: EvalEvent | null = null;
    const elapsed = () => this.state.elapsedS + (now() - start - paused) / 1000;

    /** Reads a step's metrics back and reports it; false when they are not finite. */
    const settle = async (p: Pending): Promise<boolean> => {
      const { loss, norm } = await p.values();
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        this.rec.copy(this.snapshots[(p.step - 1) % 2], this.net.loraParams!).submit();
        this.state.step = p.step - 1;
        reason = 'non-finite';
        message = nonFiniteMessage(p.step, loss, norm, this.options);
        return false;
      }
      sessionTokens += p.realTokens;
      this.state.tokens += p.tokens;
      lastLoss = loss;
      const e = elapsed();
      hooks.onStep?.({ step: p.step, loss, lr: p.lr, grad_norm: norm, tokens_per_s: sessionTokens / Math.max(1e-9, e - this.state.elapsedS), elapsed_s: e, epoch: p.epoch });
      return true;
    };

    while (this.state.step < this.state.totalSteps) {
      if (hooks.stopAfter !== undefined && this.state.step >= hooks.stopAfter) break;
      if (hooks.signal?.aborted) {
        reason = 'stopped';
        message = `stopped at step ${this.state.step}`;
        break;
      }
      const wait = hooks.pause?.();
      if (wait) {
        if (pending && !(await settle(pending))) break;
        pending = null;
        const t0 = now();
        await wait;
        paused += now() - t0;
        continue;
      }
      const current = this.submitStep();
      if (pending && !(await settle(pending))) break;
      pending = current;
      const step = this.state.step;
      if (this.data.val.length > 0 && ((this.evalEvery > 0 && step % this.evalEvery === 0) || step === this.state.totalSteps)) {
        const ok = await settle(pending);
        pending = null;
        if (!ok) break;
        lastEval = await this.validate(step);
        hooks.onEval?.(lastEval);
        if (this.options.patience !== null && this.state.evalsSinceBest >= this.options.patience) {
          reason = 'early-stopped';
          message = `the validation loss has not improved for ${this.options.patience} validations (best ${this.state.bestValLoss!.toFixed(4)} at step ${this.state.bestStep}); stopped early`;
          break;
        }
      }
    }
    if (pending && (reason as StopReason) !== 'non-finite') await settle(pending);
    await this.gpu.sync('training');
    this.state.elapsedS = elapsed();
    return {
      reason, steps: this.state.step, message, lastLoss, bestValLoss: this.state.bestValLoss, bestStep: this.state.bestStep, lastEval, elapsedS: this.state.elapsedS,
    };
  }

  /** Validation loss (and label accuracy) now; keeps the adapter when it is the best so far. */
  async validate(step = this.state.step): Promise<EvalEvent> {
    const d = this.data;
    const val_loss = await meanLoss(this.gpu, this.net, evalBatches(d.val, this.options.batchSize, d.padId));
    const event: EvalEvent = { step, val_loss };
    if (d.labels) {
      const o = { seqLen: this.options.seqLen, useChatTemplate: d.useChatTemplate, batchSize: this.options.batchSize, padId: d.padId };
      event.val_accuracy = (await labelAccuracy(this.gpu, this.net, this.model.tokenizer, d.valRows, d.labels, o)).accuracy;
    }
    if (Number.isFinite(val_loss) && (this.state.bestValLoss === null || val_loss < this.state.bestValLoss)) {
      this.state.bestValLoss = val_loss;
      this.state.bestStep = step;
      this.state.evalsSinceBest = 0;
      this.rec.copy(this.net.loraParams!, this.best).submit();
      this.hasBest = true;
    } else {
      this.state.evalsSinceBest++;
    }
    return event;
  }

  /** The adapter to export: the one with the best validation loss when there is one, else the latest. */
  async adapterParams(which: 'best' | 'last' = 'best'): Promise<Float32Array> {
    if (which === 'best' && this.hasBest) return this.gpu.pool.readF32(this.best);
    return this.net.readAdapterParams();
  }

  async checkpoint(): Promise<Checkpoint> {
    await this.gpu.sync('checkpoint');
    return {
      options: this.options,
      state: structuredClone(this.state),
      params: await this.net.readAdapterParams(),
      adam: await this.optimizer.readMoments(),
      best: this.hasBest ? await this.gpu.pool.readF32(this.best) : null,
      model: modelFingerprint(this.model.config),
      data: dataFingerprint(this.rows),
    };
  }

  destroy(): void {
    this.rec.destroy();
    for (const t of [...this.snapshots, this.best, this.metrics]) this.gpu.pool.releaseTensor(t);
    this.optimizer.destroy();
    this.net.destroy();
  }
}
