import type * as TfCore from '@tensorflow/tfjs-core';
import type { Gpu } from '../src/gpu/device.ts';
import type { BenchShape, CaseData, CaseKind, Impl } from './kernels.ts';

type Tf = typeof TfCore;

/** The parts of tfjs's WebGPUBackend used to flush its pending commands (not in its typings). */
interface BackendInternals {
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

let tfModule: Promise<Tf> | null = null;
let boundTo: GPUDevice | null = null;

async function loadTf(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  return tf;
}

/**
 * tfjs with its WebGPU backend running on our GPUDevice, so both are measured on the same device.
 * The backend only checks that `navigator.gpu` exists (Node 20 has no navigator); the package is
 * imported before navigator is defined so that it does not register a backend on its own device.
 * A later call with another device replaces the backend.
 */
export async function tfjsOn(gpu: Gpu): Promise<Tf> {
  tfModule ??= loadTf();
  const tf = await tfModule;
  if (boundTo === gpu.device) return tf;
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (!nav?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { ...nav, gpu: {} }, configurable: true, writable: true });
  // Small ops on CPU-resident data would otherwise run on the CPU.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (boundTo) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(gpu.device));
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its WebGPU backend on this device.');
  boundTo = gpu.device;
  return tf;
}

/** The same computation as oursImpl with tfjs ops (fused matmul + bias where it saves a pass). */
export function tfjsImpl(tf: Tf, gpu: Gpu, kind: CaseKind, { m, c, r }: BenchShape, d: CaseData): Impl {
  const keep: TfCore.Tensor[] = [];
  const t = <T extends TfCore.Tensor>(v: T) => (keep.push(v), v);
  const x = t(tf.tensor2d(d.x, [m, c]));
  const w = t(tf.tensor2d(d.w, [c, c]));
  const a = t(tf.tensor2d(d.a, [r, c]));
  const b = t(tf.tensor2d(d.b, [c, r]));
  const dy = t(tf.tensor2d(d.dy, [m, c]));
  const s = t(tf.scalar(d.scale));
  const compute = (): Record<string, TfCore.Tensor> => {
    if (kind === 'matmul') return { y: tf.matMul(x, w, false, true) };
    const h = tf.matMul(x, a, false, true); // [M, R]
    const adapter = tf.mul(tf.matMul(h, b, false, true), s); // [M, N]
    const y = tf.fused.matMul({ a: x, b: w, transposeB: true, bias: adapter });
    const db = tf.mul(tf.matMul(dy, h, true, false), s); // [N, R]
    const dh = tf.mul(tf.matMul(dy, b), s); // [M, R]
    const da = tf.matMul(dh, x, true, false); // [R, K]
    const dx = tf.fused.matMul({ a: dy, b: w, bias: tf.matMul(dh, a) }); // [M, K]
    return { y, dx, da, db };
  };
  const backend = tf.backend() as unknown as BackendInternals;
  const flush = () => {
    backend.endComputePassEncoder();
    if (backend.commandEncoder) backend.submitQueue();
  };
  return {
    step: () => {
      tf.tidy(() => {
        compute();
      });
      flush();
    },
    drain: () => gpu.device.queue.onSubmittedWorkDone(),
    outputs: async () => {
      const out = tf.tidy(() => compute() as unknown as TfCore.TensorContainer) as unknown as Record<string, TfCore.Tensor>;
      const entries = await Promise.all(Object.entries(out).map(async ([k, v]) => [k, (await v.data()) as Float32Array] as const));
      tf.dispose(Object.values(out));
      return Object.fromEntries(entries);
    },
    dispose: () => tf.dispose(keep),
  };
}
