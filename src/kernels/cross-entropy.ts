import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';
import { rowLayout } from './rows.ts';

/** shaders/cross_entropy.wgsl's uniforms (the subgroup kernel's too): rows N, vocabulary V. */
export const CROSS_ENTROPY_PARAMS = uniformBlock('cross_entropy', 'Params', { N: 'u32', V: 'u32' });
/** shaders/cross_entropy_backward.wgsl's uniforms: rows N, vocabulary V, the factor on dlogits. */
export const CROSS_ENTROPY_BACKWARD_PARAMS = uniformBlock('cross_entropy_backward', 'Params', { N: 'u32', V: 'u32', scale: 'f32' });
/** shaders/cross_entropy_sum.wgsl's uniforms: rows N. */
export const CROSS_ENTROPY_SUM_PARAMS = uniformBlock('cross_entropy_sum', 'Params', { N: 'u32' });

/**
 * Softmax cross-entropy over the vocabulary with a loss mask.
 * logits [N, V] f32 (N = B·T), targets i32 [N] with −1 for tokens that are not counted (prompt,
 * padding). A target outside [−1, V) makes that row's loss and gradient NaN, which the gradient
 * norm's finiteness check then reports.
 */

const WG = 256;
/** Vocabularies up to this size run one thread per row in the forward; wider ones a workgroup per row. */
export const ROWS_MAX_VOCAB = 2048;
const ROWS_PER_WORKGROUP = 64;

function checkRows(op: string, logits: Tensor, targets: Tensor): { N: number; V: number } {
  if (logits.shape.length !== 2 || logits.dtype !== 'f32') {
    throw new Error(`${op}: logits must be f32 [N, V] but ${logits.label} is ${logits.dtype}[${logits.shape.join(', ')}].`);
  }
  const [N, V] = logits.shape;
  if (N * V >= 2 ** 32) throw new Error(`${op}: ${logits.label} has ${N}·${V} elements, more than a u32 index reaches; split the rows.`);
  expectShape(op, 'targets', targets, [N], ['i32']);
  return { N, V };
}

/**
 * loss [N] = logsumexp(logits[n]) − logits[n, targets[n]] (0 for uncounted rows); lse [N] for the
 * backward. With subgroups (gpu.subgroups) one kernel, cross_entropy_subgroups.wgsl, takes every
 * vocabulary (rows laid out by rowLayout); without, a thread per row up to ROWS_MAX_VOCAB and a
 * workgroup per row past it.
 */
export function crossEntropyForward(rec: Recorder, logits: Tensor, targets: Tensor, loss: Tensor, lse: Tensor): void {
  const op = 'cross-entropy forward';
  const { N, V } = checkRows(op, logits, targets);
  expectShape(op, 'loss', loss, [N], ['f32']);
  expectShape(op, 'lse', lse, [N], ['f32']);
  if (rec.gpu.subgroups) {
    // Never rows.wgsl's thread per row (threads 256): cross-entropy's subgroup kernel measured faster at every V.
    const layout = rowLayout(rec.gpu, N, V, 256);
    rec.dispatch({
      label: `cross-entropy forward ${logits.label}`,
      pipeline: {
        shaders: ['common', layout.helper, 'cross_entropy', 'cross_entropy_subgroups'],
        entry: 'cross_entropy_forward_subgroups',
        constants: layout.constants,
        subgroups: true,
      },
      uniforms: CROSS_ENTROPY_PARAMS.pack({ N, V }),
      bindings: [logits, targets, loss, lse],
      workgroups: [layout.workgroups],
    });
    return;
  }
  const rows = V <= ROWS_MAX_VOCAB;
  rec.dispatch({
    label: `cross-entropy forward ${logits.label}`,
    pipeline: { shaders: ['common', 'cross_entropy'], entry: rows ? 'cross_entropy_forward_rows' : 'cross_entropy_forward' },
    uniforms: CROSS_ENTROPY_PARAMS.pack({ N, V }),
    bindings: [logits, targets, loss, lse],
    workgroups: [rows ? Math.ceil(N / ROWS_PER_WORKGROUP) : N],
  });
}

/**
 * dlogits [N, V] = (softmax(logits) − onehot(target)) · scale for counted rows, 0 for the others
 * (written with =). Pass the logits tensor itself as `dlogits` to overwrite it in place.
 * `scale` is 1 / (counted tokens of the accumulated batch): the loss is their mean.
 */
export function crossEntropyBackward(rec: Recorder, logits: Tensor, targets: Tensor, lse: Tensor, dlogits: Tensor, scale: number): void {
  const op = 'cross-entropy backward';
  const { N, V } = checkRows(op, logits, targets);
  expectShape(op, 'lse', lse, [N], ['f32']);
  expectShape(op, 'dlogits', dlogits, [N, V], ['f32']);
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale = ${scale} must be finite (1 / counted tokens; is the batch empty?).`);
  const inPlace = dlogits.buffer === logits.buffer && (dlogits.byteOffset ?? 0) === (logits.byteOffset ?? 0);
  rec.dispatch({
    label: `cross-entropy backward ${dlogits.label}`,
    pipeline: { shaders: ['common', 'cross_entropy_backward'], entry: inPlace ? 'cross_entropy_backward_inplace' : 'cross_entropy_backward' },
    uniforms: CROSS_ENTROPY_BACKWARD_PARAMS.pack({ N, V, scale }),
    bindings: inPlace ? [targets, lse, dlogits] : [targets, lse, dlogits, logits],
    workgroups: [Math.ceil((N * V) / WG)],
  });
}

/** total [1] = Σ loss [N]: one number to read back per step. */
export function crossEntropySum(rec: Recorder, loss: Tensor, total: Tensor): void {
  const op = 'cross-entropy sum';
  if (loss.shape.length !== 1 || loss.dtype !== 'f32') {
    throw new Error(`${op}: loss must be f32 [N] but ${loss.label} is ${loss.dtype}[${loss.shape.join(', ')}].`);
  }
  expectShape(op, 'total', total, [1], ['f32']);
  // loss is one row of N on one workgroup.
  const layout = rowLayout(rec.gpu, 1, loss.shape[0], 256);
  rec.dispatch({
    label: `cross-entropy sum ${loss.label}`,
    pipeline: { shaders: ['common', layout.helper, 'cross_entropy_sum'], entry: 'cross_entropy_sum', constants: layout.constants, subgroups: layout.subgroups },
    uniforms: CROSS_ENTROPY_SUM_PARAMS.pack({ N: loss.shape[0] }),
    bindings: [loss, total],
    workgroups: [1],
  });
}
