/// <reference lib="webworker" />
import { adapterName, type Gpu } from '../gpu/device.ts';
import { createBrowserGpu } from '../gpu/browser.ts';
import { GpuError } from '../gpu/errors.ts';
import { gpuSelfTest } from '../gpu/self-test.ts';
import type { CallKind, Calls, Request, Response } from './protocol.ts';

let gpuPromise: Promise<Gpu> | null = null;

function getGpu(): Promise<Gpu> {
  gpuPromise ??= createBrowserGpu().catch((e) => {
    gpuPromise = null;
    throw e;
  });
  return gpuPromise;
}

type Handlers = { [K in CallKind]: (req: Extract<Request, { kind: K }>, progress: (p: Calls[K]['progress']) => void) => Promise<Calls[K]['result']> };

const handlers: Handlers = {
  'gpu-info': async () => {
    const gpu = await getGpu();
    return { name: adapterName(gpu.adapter), adapter: gpu.adapter };
  },
  'self-test': async () => gpuSelfTest(await getGpu()),
};

const post = (msg: Response) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(msg);

self.onmessage = async (event: MessageEvent<Request>) => {
  const req = event.data;
  try {
    const handler = handlers[req.kind] as (r: Request, p: (x: unknown) => void) => Promise<unknown>;
    const result = await handler(req, (progress) => post({ kind: 'progress', id: req.id, progress }));
    post({ kind: 'result', id: req.id, result });
  } catch (e) {
    const err = e as Error;
    post({ kind: 'error', id: req.id, message: err.message, errorKind: err instanceof GpuError ? err.kind : 'internal' });
  }
};
