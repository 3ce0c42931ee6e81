/** A submitted step whose loss sum and gradient norm are still on their way back. */
import type { DataCursor } from './data.ts';
import type { TrainOptions } from './options.ts';

export class Pending {
  constructor(
    /** 1-based step. */
    readonly step: number,
    readonly lr: number,
    /** Counted (answer) tokens of the accumulated batch. */
    readonly tokens: number,
    /** Non-padding tokens processed. */
    readonly realTokens: number,
    readonly epoch: number,
    private readonly read: Promise<ArrayBuffer>,
    /** The state before this step, to roll back to when its values are not finite. */
    readonly before: { cursor: DataCursor; tokens: number; realTokens: number },
  ) {}

  /** loss = summed token loss / counted tokens (HF's mean over the accumulated batch). */
  async values(): Promise<{ loss: number; norm: number }> {
    const [sum, norm] = new Float32Array(await this.read);
    return { loss: this.tokens > 0 ? sum / this.tokens : 0, norm };
  }
}

const describeValue = (x: number) => (Number.isNaN(x) ? 'NaN' : x > 0 ? 'infinite' : '-infinite');

/** The message of a run stopped by a non-finite loss or gradient norm. */
export function nonFiniteMessage(step: number, loss: number, norm: number, o: Pick<TrainOptions, 'lr' | 'maxGradNorm'>): string {
  const what = !Number.isFinite(loss) ? `the loss became ${describeValue(loss)}` : `the gradient norm became ${describeValue(norm)}`;
  const clip = o.maxGradNorm > 0 ? '' : ', turn gradient clipping on (--max-grad-norm 1)';
  return `${what} at step ${step}; try a lower learning rate (now ${o.lr}, e.g. --lr ${o.lr / 10})${clip}, or check the data for very long or broken rows. The adapter from step ${step - 1} is kept.`;
}
