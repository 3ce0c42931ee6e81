/**
 * The LoRA training loop on the GPU network. One optimizer step is recorded and submitted once:
 *
 *   zero grads and loss → for each micro-batch of the accumulation:
 *   forward + backward (lossScale = 1 / answer tokens of the whole accumulated batch, so the
 *   gradient is that of HF's mean loss) → grad norm + clip → step guard → AdamW/SGD → copy loss sum and
 *   norm into a slot of the metrics readback ring (src/gpu/readback-ring.ts).
 *
 * The copy rides in the step's own command buffer (one submit per step) and the loss and the norm
 * are read back one step late (the next step is already queued when the trainer waits), so the GPU
 * never idles on a readback. The ring's slots are allocated once; a slot is recorded into again
 * only after its map has resolved and it is unmapped. A NaN/Inf loss or gradient norm makes the
 * optimizer's step guard skip the update on the GPU and keep skipping the steps queued after it, so
 * the params and AdamW moments on the GPU stay those from before the broken step n, with no copy
 * of them kept. When step n is found non-finite the rest of the state is rolled back to before step
 * n (the data cursor, the step and the token counts from the step's record), the guard is cleared,
 * and the run stops with a message.
 *
 * Checkpoints are taken inside the run (`hooks.onCheckpoint` every `hooks.checkpointEvery` steps)
 * once the step's values are read back and found finite, so a checkpoint never holds a broken
 * state. Speed and time left come from `runPace` over the whole run (earlier sessions included).
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
import { compareLabelPredictions, compareTextAnswers, TEXT_EVAL_ROWS, TEXT_EVAL_TOKENS, type HeldOutEvaluation } from '../eval/held-out.ts';
import { labelReport } from '../eval/report.ts';
import { evalBatches, meanLoss, predictLabels } from '../eval/score.ts';
import { runPace } from './metrics.ts';
import type { EvalEvent, StopReason, TrainHooks, TrainResult } from './events.ts';
import { trainPlan } from './memory-plan.ts';
import { LoraOptimizer } from './optimizer.ts';
import { validateTrainOptions, type TrainOptions } from './options.ts';
import { lrAt, warmupSteps, type Schedule } from './schedule.ts';
import { nonFiniteMessage, Pending } from './step-readback.ts';
import type { Recorder } from '../gpu/recorder.ts';
import { ReadbackRing } from '../gpu/readback-ring.ts';

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
  private readonly best: Tensor;
  /** Loss sum and gradient norm of the steps in flight: 2 f32 per slot. */
  private readonly metrics: ReadbackRing;
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
    this.best = gpu.pool.tensor('train.best', [P]);
    if (best) gpu.pool.write(this.best, best);
    this.hasBest = best !== null;
    this.metrics = new ReadbackRing(gpu, 'train.metrics', 8);
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
      bestValLoss: null, bestStep: null, evalsSinceBest: 0, elapsedS: 0, tokens: 0, realTokens: 0,
    };
    state.realTokens ??= 0;
    const stream = new BatchStream(data.train, { ...o, padId: data.padId }, { ...state.cursor });
    return new Trainer(gpu, model, rows, o, data, layout, net, optimizer, state, stream, ck?.best ?? null);
  }

  /** Records and submits optimizer step `state.step` (0-based); returns its pending readback. */
  private async submitStep(): Promise<Pending> {
    await this.metrics.whenFree();
    const step = this.state.step;
    const batches = this.stream.nextStep();
    const tokens = batches.reduce((n, b) => n + b.tokenCount, 0);
    const lr = lrAt(this.schedule, step);
    const rec = this.rec;
    const before = { cursor: { ...this.state.cursor }, tokens: this.state.tokens, realTokens: this.state.realTokens ?? 0 };
    this.net.recordZeroGrads(rec);
    this.net.recordZeroLoss(rec);
    batches.forEach((b, i) => {
      this.net.recordStep(rec, b, { backward: true, lossScale: tokens > 0 ? 1 / tokens : 0, dropoutSeed: dropoutSeed(this.options.seed, step, i) });
    });
    this.optimizer.record(rec, lr, step + 1, this.net.lossSum);
    const read = this.metrics.record(rec, [{ src: this.net.lossSum, bytes: 4 }, { src: this.optimizer.norm, bytes: 4 }]);
    rec.submit();
    this.state.step = step + 1;
    this.state.cursor = { ...this.stream.cursor };
    const realTokens = batches.reduce((n, b) => n + b.attentionMask.reduce((a, x) => a + x, 0), 0);
    this.state.tokens += tokens;
    this.state.realTokens = (this.state.realTokens ?? 0) + realTokens;
    return new Pending(step + 1, lr, tokens, realTokens, this.stream.epochProgress(), read, before);
  }

  /**
   * Puts back everything as it was before step `p.step` (1-based). The params and moments on the
   * GPU are already those (the step guard skipped that step and every one queued after it): the
   * cursor, step and token counts follow them, and the guard is cleared for the steps to come.
   */
  private rollBack(p: Pending): void {
    this.optimizer.resume();
    this.state.step = p.step - 1;
    this.state.cursor = { ...p.before.cursor };
    this.stream.cursor = { ...p.before.cursor };
    this.state.tokens = p.before.tokens;
    this.state.realTokens = p.before.realTokens;
  }

  /** Runs until the planned steps are done, or a hook, early stopping or a non-finite value stops it. */
  async run(hooks: TrainHooks = {}): Promise<TrainResult> {
    const start = now();
    let paused = 0;
    let pending: Pending | null = null;
    let reason: StopReason = 'done';
    let message: string | null = null;
    let lastLoss: number | null = null;
    let lastEval: EvalEvent | null = null;
    // training seconds of earlier sessions, then this one's (state.elapsedS is brought up to date at checkpoints)
    const before = this.state.elapsedS;
    const elapsed = () => before + (now() - start - paused) / 1000;

    /** Reads a step's metrics back and reports it; false (after rolling back) when they are not finite. */
    const settle = async (p: Pending): Promise<boolean> => {
      const { loss, norm } = await p.values();
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        this.rollBack(p);
        reason = 'non-finite';
        message = nonFiniteMessage(p.step, loss, norm, this.options);
        return false;
      }
      lastLoss = loss;
      const e = elapsed();
      // the tokens of this step and those before it (a later step may be queued already)
      const pace = runPace({ step: p.step, totalSteps: this.state.totalSteps, elapsedS: e, realTokens: p.before.realTokens + p.realTokens });
      hooks.onStep?.({ step: p.step, loss, lr: p.lr, grad_norm: norm, tokens_per_s: pace.tokensPerS, eta_s: pace.etaS, elapsed_s: e, epoch: p.epoch });
      return true;
    };
    /** Settles the step in flight, so the state on the GPU is that of `state.step`; false when it was not finite. */
    const drain = async (): Promise<boolean> => {
      const p = pending;
      pending = null;
      return p ? settle(p) : true;
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
        if (!(await drain())) break;
        const t0 = now();
        this.state.elapsedS = elapsed();
        await hooks.onPause?.();
        await wait;
        paused += now() - t0;
        continue;
      }
      const current = await this.submitStep();
      if (pending && !(await settle(pending))) break;
      pending = current;
      const step = this.state.step;
      const validate = this.data.val.length > 0 && ((this.evalEvery > 0 && step % this.evalEvery === 0) || step === this.state.totalSteps);
      const every = hooks.checkpointEvery ?? 0;
      const checkpoint = hooks.onCheckpoint !== undefined && every > 0 && step % every === 0 && step < this.state.totalSteps;
      if (validate || checkpoint) {
        if (!(await drain())) break;
        if (validate) {
          lastEval = await this.validate(step);
          hooks.onEval?.(lastEval);
        }
        if (checkpoint) {
          this.state.elapsedS = elapsed();
          await hooks.onCheckpoint!(this);
        }
        if (validate && this.options.patience !== null && this.state.evalsSinceBest >= this.options.patience) {
          reason = 'early-stopped';
          message = `the validation loss has not improved for ${this.options.patience} validations (best ${this.state.bestValLoss!.toFixed(4)} at step ${this.state.bestStep}); stopped early`;
          break;
        }
      }
    }
    if ((reason as StopReason) !== 'non-finite') await drain();
    await this.gpu.sync('training');
    // a step queued after a non-finite one is never reported: let its read come back all the same
    await this.metrics.settled();
    this.state.elapsedS = elapsed();
    return {
      reason, steps: this.state.step, message, lastLoss, bestValLoss: this.state.bestValLoss, bestStep: this.state.bestStep, lastEval, elapsedS: this.state.elapsedS,
    };
  }

  /** Validation loss (and label accuracy) now; keeps the adapter when it is the best so far. */
  async validate(step = this.state.step): Promise<EvalEvent> {
    const d = this.data;
    const val_loss = await meanLoss(this.net, evalBatches(d.val, this.options.batchSize, d.padId));
    const event: EvalEvent = { step, val_loss };
    if (d.labels) {
      const { predicted } = await predictLabels(this.net, this.model.tokenizer, d.valRows, d.labels, this.scoreOptions());
      const report = labelReport(d.labels, d.valRows.map((r) => r.output), predicted);
      event.val_accuracy = report.accuracy;
      event.val_macro_f1 = report.macroF1;
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

  /** How validation and the final evaluation score labels: the run's own sequence length and batch size. */
  scoreOptions() {
    return { seqLen: this.options.seqLen, useChatTemplate: this.data.useChatTemplate, batchSize: this.options.batchSize, padId: this.data.padId };
  }

  /**
   * The base model and the kept adapter (`adapterParams('best')`) on the validation rows (null
   * without any): label tasks by the likeliest-label rule on every row; free-text tasks by greedy
   * answers of up to TEXT_EVAL_TOKENS on the first TEXT_EVAL_ROWS rows. The params are put back after.
   */
  async finalEvaluation(): Promise<HeldOutEvaluation | null> {
    const d = this.data;
    if (d.valRows.length === 0) return null;
    const P = this.net.loraParams!;
    // The gradients are dead between steps (zeroed at the start of each): they hold the latest
    // params while the kept adapter is evaluated.
    const spare = this.net.loraGrads!;
    const useBest = this.hasBest;
    const step = useBest ? this.state.bestStep! : this.state.step;
    if (useBest) this.rec.copy(P, spare).copy(this.best, P).submit();
    try {
      if (d.labels) {
        const c = await compareLabelPredictions(this.net, this.model.tokenizer, d.valRows, d.labels, this.scoreOptions());
        return { step, base: c.baseReport, tuned: c.tunedReport, baseAnswers: c.base, tunedAnswers: c.tuned };
      }
      const rows = d.valRows.slice(0, TEXT_EVAL_ROWS);
      const maxSeq = Math.min(this.model.config.maxPositions, this.options.seqLen + TEXT_EVAL_TOKENS);
      const c = await compareTextAnswers(this.net, this.model, rows, { useChatTemplate: d.useChatTemplate, maxNewTokens: TEXT_EVAL_TOKENS, maxSeq });
      return { step, base: c.baseReport, tuned: c.tunedReport, baseAnswers: c.base, tunedAnswers: c.tuned };
    } finally {
      if (useBest) this.rec.copy(spare, P).submit();
    }
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
    this.metrics.destroy();
    this.gpu.pool.releaseTensor(this.best);
    this.optimizer.destroy();
    this.net.destroy();
  }
}
