import { startEngine, type EngineClient } from '../../worker/client.ts';

let engine: EngineClient | null = null;

/** The single engine worker; created on first use so tests and SSR never start one. */
export function getEngine(): EngineClient {
  engine ??= startEngine();
  return engine;
}
