import { dawnGpu } from '../src/gpu/node.ts';
import type { BenchShape, CaseData, CaseKind, Impl } from './kernels.ts';

type Jax = typeof import('@jax-js/jax');
type JArray = import('@jax-js/jax').Array;

let jaxModule: Promise<Jax> | null = null;

/**
 * jax-js with its WebGPU backend. It opens its own device on the adapter `navigator.gpu` gives, so
 * in Node `navigator.gpu` is Dawn's GPU object (the one our device came from: the same adapter)
 * and `navigator.userAgent` is set (jax-js reads it to pick browser-specific tuning).
 */
export async function jaxjsOn(): Promise<Jax> {
  jaxModule ??= (async () => {
    const nav = (globalThis as { navigator?: { gpu?: unknown; userAgent?: string } }).navigator;
    const dawn = dawnGpu();
    if (!dawn && !nav?.gpu) throw new Error('jax-js needs a WebGPU adapter: create the Node GPU first.');
    if (dawn || !nav?.userAgent) {
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...nav, gpu: dawn ?? nav?.gpu, userAgent: nav?.userAgent ?? `Node.js/${process.versions.node}` },
        configurable: true,
        writable: true,
      });
    }
    const jax = await import('@jax-js/jax');
    if (!(await jax.init('webgpu')).includes('webgpu')) throw new Error('jax-js could not start its WebGPU backend on this adapter.');
    jax.defaultDevice('webgpu');
    return jax;
  })();
  return jaxModule;
}

/**
 * The same computation as oursImpl in jax-js, jit-compiled: x·Wᵀ for the matmul case; for LoRA, y
 * and the gradients of ⟨y, dy⟩ with respect to x, A and B from jax-js's own `grad`, which are
 * exactly dx, dA and dB of the LoRA backward (y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ).
 */
export function jaxjsImpl(jax: Jax, kind: CaseKind, { m, c, r }: BenchShape, d: CaseData): Impl {
  const np = jax.numpy;
  const arr = (v: Float32Array) => np.array(new Float32Array(v));
  const x = arr(d.x).reshape([m, c]);
  const w = arr(d.w).reshape([c, c]);
  const a = arr(d.a).reshape([r, c]);
  const b = arr(d.b).reshape([c, r]);
  const dy = arr(d.dy).reshape([m, c]);
  const s = d.scale;
  const linear = (xx: JArray, ww: JArray, aa: JArray, bb: JArray) =>
    np.matmul(xx.ref, ww.transpose()).add(np.matmul(np.matmul(xx, aa.transpose()), bb.transpose()).mul(s));
  const run =
    kind === 'matmul'
      ? jax.jit((xx: JArray, ww: JArray) => ({ y: np.matmul(xx, ww.transpose()) }))
      : jax.jit((xx: JArray, ww: JArray, aa: JArray, bb: JArray, gg: JArray) => {
          const loss = (x0: JArray, a0: JArray, b0: JArray) => {
            const y = linear(x0, ww.ref, a0, b0);
            return [y.ref.mul(gg.ref).sum(), y] as [JArray, JArray];
          };
          const [[, y], [dx, da, db]] = jax.valueAndGrad(loss, { argnums: [0, 1, 2], hasAux: true })(xx, aa, bb);
          ww.dispose();
          gg.dispose();
          return { y, dx, da, db };
        });
  const call = (): Record<string, JArray> =>
    kind === 'matmul' ? (run as (p: JArray, q: JArray) => Record<string, JArray>)(x.ref, w.ref) : (run as (...p: JArray[]) => Record<string, JArray>)(x.ref, w.ref, a.ref, b.ref, dy.ref);
  let pending: Record<string, JArray>[] = [];
  return {
    step: () => {
      pending.push(call());
    },
    drain: async () => {
      const done = pending;
      pending = [];
      for (const out of done) for (const v of Object.values(out)) await v.blockUntilReady();
      for (const out of done) for (const v of Object.values(out)) v.dispose();
    },
    outputs: async () => {
      const out = call();
      const entries = await Promise.all(Object.entries(out).map(async ([k, v]) => [k, Float32Array.from((await v.data()) as Float32Array)] as const));
      return Object.fromEntries(entries);
    },
    dispose: () => {
      for (const v of [x, w, a, b, dy]) v.dispose();
      run.dispose();
    },
  };
}
