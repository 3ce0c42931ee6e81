import type { AdapterSummary } from '../gpu/device.ts';
import type { SelfTestResult } from '../gpu/self-test.ts';

/**
 * The whole conversation between the page and the engine worker. A request is `{kind, id, ...args}`;
 * the worker answers with `result`, `error` or any number of `progress` messages for that id.
 */
export interface Calls {
  'gpu-info': { args: Record<string, never>; result: { name: string; adapter: AdapterSummary }; progress: never };
  'self-test': { args: Record<string, never>; result: SelfTestResult; progress: never };
}

export type CallKind = keyof Calls;

export type Request = { [K in CallKind]: { kind: K; id: number } & Calls[K]['args'] }[CallKind];

export type Response =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; message: string; errorKind: string }
  | { kind: 'progress'; id: number; progress: unknown };
