import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';

const WG = 256;

/** shaders/residual.wgsl's uniforms: elements. */
export const ADD_PARAMS = uniformBlock('residual', 'Params', { n: 'u32' });
/** shaders/accumulate.wgsl's uniforms: elements and the factor. */
export const ACCUMULATE_PARAMS = uniformBlock('accumulate', 'Params', { n: 'u32', scale: 'f32' });

/** out = a + b, elementwise over any shape (the residual connection). */
export function addForward(rec: Recorder, a: Tensor, b: Tensor, out: Tensor): void {
  expectShape('add', 'b', b, a.shape, ['f32']);
  expectShape('add', 'out', out, a.shape, ['f32']);
  const n = numel(a.shape);
  rec.dispatch({
    label: `add ${out.label}`,
    pipeline: { shaders: ['common', 'residual'], entry: 'add_forward' },
    uniforms: ADD_PARAMS.pack({ n }),
    bindings: [a, b, out],
    workgroups: [Math.ceil(n / WG)],
  });
}

/** acc += scale · g, elementwise (gradient accumulation). */
export function accumulate(rec: Recorder, g: Tensor, acc: Tensor, scale = 1): void {
  expectShape('accumulate', 'acc', acc, g.shape, ['f32']);
  const n = numel(g.shape);
  rec.dispatch({
    label: `accumulate ${acc.label}`,
    pipeline: { shaders: ['common', 'accumulate'], entry: 'accumulate' },
    uniforms: ACCUMULATE_PARAMS.pack({ n, scale }),
    bindings: [g, acc],
    workgroups: [Math.ceil(n / WG)],
  });
}
