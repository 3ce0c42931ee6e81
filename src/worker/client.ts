import type { CallKind, Calls, Response } from './protocol.ts';

export class EngineError extends Error {
  constructor(
    message: string,
    readonly errorKind: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: unknown) => void };

/** The page's handle on the engine worker: typed calls that resolve with the worker's result. */
export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<Response>) => {
      const msg = event.data;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.kind === 'progress') p.progress?.(msg.progress);
      else {
        this.pending.delete(msg.id);
        if (msg.kind === 'result') p.resolve(msg.result);
        else p.reject(new EngineError(msg.message, msg.errorKind));
      }
    };
    worker.onerror = (event) => {
      const error = new EngineError(`The engine stopped unexpectedly: ${event.message}. Reload the page.`, 'internal');
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
  }

  call<K extends CallKind>(kind: K, args: Calls[K]['args'], onProgress?: (p: Calls[K]['progress']) => void, transfer: Transferable[] = []): Promise<Calls[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress: onProgress as (p: unknown) => void });
      this.worker.postMessage({ ...args, kind, id }, transfer);
    });
  }
}

export function startEngine(): EngineClient {
  return new EngineClient(new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'tsugiki-engine' }));
}
