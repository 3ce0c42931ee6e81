import type { Recorder } from '../gpu/recorder.ts';
import { uniforms } from '../gpu/recorder.ts';
import { expectShape, numel, type Tensor } from '../gpu/tensor.ts';

const WG = 256;

/** out = a + b, elementwise over any shape (the residual connection). */
export function addForward(rec: Recorder, a: Tensor, b: Tensor, out: Tensor): void {
  expectShape('add', 'b', b, a.shape, ['f32']);
  expectShape('add', 'out', out, a.shape, ['f32']);
  const n = numel(a.shape);
  rec.dispatch({
    label: `add ${out.label}`,
    pipeline: { shaders: ['common', 'residual'], entry: 'add_forward' },
    uniforms: uniforms(n),
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
    uniforms: uniforms(n, { f: scale }),
    bindings: [g, acc],
    workgroups: [Math.ceil(n / WG)],
  });
}
