/// <reference lib="webworker" />
import { adapterName } from '../gpu/device.ts';
import { gpuSelfTest } from '../gpu/self-test.ts';
import { compare } from './compare-handlers.ts';
import { exportAdapter, exportMerged, importAdapter } from './export-handlers.ts';
import { exportOnnxZip, verifyOnnx } from './onnx-handlers.ts';
import { exportGgufAdapter, exportGgufMerged, exportGpuServer } from './gguf-handlers.ts';
import { bytesOf, clearCache, downloadModel, listCache, loadFromFiles, quantizeHeldBase } from './model-handlers.ts';
import type { CallKind, Calls, Request, Response } from './protocol.ts';
import { getGpu } from './session.ts';
import { train, trainControl } from './train-handlers.ts';

type Handlers = { [K in CallKind]: (req: Extract<Request, { kind: K }>, progress: (p: Calls[K]['progress']) => void) => Promise<Calls[K]['result']> };

const handlers: Handlers = {
  'gpu-info': async () => {
    const gpu = await getGpu();
    return { name: adapterName(gpu.adapter), adapter: gpu.adapter };
  },
  'self-test': async () => gpuSelfTest(await getGpu()),
  'load-files': async (req) => loadFromFiles(bytesOf(req.files), req.sourceName),
  'download-model': (req, progress) => downloadModel(req.repo, req.files, progress, req.token),
  'quantize-base': async () => quantizeHeldBase(),
  'cache-list': () => listCache(),
  'cache-clear': () => clearCache(),
  train: (req, progress) => train(req.run, progress),
  'train-control': async (req) => trainControl(req.action),
  compare: (req, progress) => compare(req, progress),
  'export-adapter': async (req) => exportAdapter(req.info),
  'export-merged': async (_req, progress) => exportMerged(progress),
  'export-onnx': async (req, progress) => exportOnnxZip(req.dtype, progress),
  'export-gguf-adapter': async (req) => exportGgufAdapter(req.dtype),
  'export-gguf-merged': async (req, progress) => exportGgufMerged(req.fileType, req.useChatTemplate, progress),
  'export-gpu-server': async (req, progress) => exportGpuServer(req.rows, req.options, req.useChatTemplate, progress),
  'verify-onnx': (req, progress) => verifyOnnx(req.row, req.useChatTemplate, progress),
  'import-adapter': async (req) => importAdapter(bytesOf(req.files), req.sourceName),
};

const post = (msg: Response, transfer: Transferable[] = []) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(msg, transfer);

/** The kind of an error for the page: GpuError/HubError kinds, 'format' for unreadable files, 'storage-full', else 'internal'. */
function errorKind(err: Error): string {
  const kind = (err as { kind?: unknown }).kind;
  if (typeof kind === 'string') return kind;
  if (err.name === 'FormatError' || err.name === 'AdapterConfigError' || err.name === 'TrainOptionsError') return 'format';
  if (err.name === 'StorageFullError') return 'storage-full';
  return 'internal';
}

/** ArrayBuffers inside a result ({zip}) are transferred, not copied. */
function transferables(result: unknown): Transferable[] {
  if (typeof result !== 'object' || result === null) return [];
  return Object.values(result).filter((v): v is ArrayBuffer => v instanceof ArrayBuffer);
}

self.onmessage = async (event: MessageEvent<Request>) => {
  const req = event.data;
  try {
    const handler = handlers[req.kind] as (r: Request, p: (x: unknown) => void) => Promise<unknown>;
    const result = await handler(req, (progress) => post({ kind: 'progress', id: req.id, progress }));
    post({ kind: 'result', id: req.id, result }, transferables(result));
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ kind: 'error', id: req.id, message: err.message, errorKind: errorKind(err) });
  }
};
