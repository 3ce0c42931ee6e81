import type { Recorder } from '../gpu/recorder.ts';
import { expectShape, numel, type Tensor } from '../gpu/tensor.ts';
import { uniformBlock } from '../gpu/uniform-block.ts';

const WG = 256;
const SHADERS = ['common', 'gelu'] as const;

/** shaders/gelu.wgsl's uniforms: elements. */
export const GELU_PARAMS = uniformBlock('gelu', 'Params', { n: 'u32' });

/** y = gelu_tanh(x), elementwise; x, y: [N, C] (any shape, same for both). GPT-2's `gelu_new`. */
export function geluForward(rec: Recorder, x: Tensor, y: Tensor): void {
  expectShape('gelu', 'x', x, x.shape, ['f32']);
  expectShape('gelu', 'y', y, x.shape, ['f32']);
  const n = numel(x.shape);
  rec.dispatch({
    label: `gelu ${y.label}`,
    pipeline: { shaders: SHADERS, entry: 'gelu_forward' },
    uniforms: GELU_PARAMS.pack({ n }),
    bindings: [x, y],
    workgroups: [Math.ceil(n / WG)],
  });
}

/** dx = dy · gelu_tanh'(x), written with =; dy, x (the forward's input), dx: [N, C]. */
export function geluBackward(rec: Recorder, dy: Tensor, x: Tensor, dx: Tensor): void {
  expectShape('gelu backward', 'dy', dy, dy.shape, ['f32']);
  expectShape('gelu backward', 'x', x, dy.shape, ['f32']);
  expectShape('gelu backward', 'dx', dx, dy.shape, ['f32']);
  const n = numel(dy.shape);
  rec.dispatch({
    label: `gelu backward ${dx.label}`,
    pipeline: { shaders: SHADERS, entry: 'gelu_backward' },
    uniforms: GELU_PARAMS.pack({ n }),
    bindings: [dy, x, dx],
    workgroups: [Math.ceil(n / WG)],
  });
}
