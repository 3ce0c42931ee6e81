/**
 * Initial adapter parameters, as PEFT's `LoraLayer.reset_lora_parameters` makes them:
 *
 *   'default':  A ~ kaiming_uniform_(a=√5): U(−bound, bound), bound = gain·√(3/fan_in) with
 *               gain = √(2/(1+a²)) = √(1/3), so bound = 1/√K (fan_in of A: [R, K] is K); B = 0.
 *   'gaussian': A ~ normal_(std=1/R); B = 0.
 *
 * B = 0 makes the adapted model start exactly equal to the base model. Values are deterministic
 * from the seed and each module's name, so adding or removing a target leaves the others unchanged.
 */
import { mulberry32, type Rng } from '../data/rng.ts';
import type { AdapterConfig } from './config.ts';
import { slotView, type AdapterLayout } from './layout.ts';

/** FNV-1a of the name mixed with the seed: one independent stream per module. */
function moduleSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h ^= Math.floor(seed / 2 ** 32);
  return h >>> 0;
}

/** Standard normal by Box–Muller (1 − u keeps the log argument in (0, 1]). */
function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The flat parameter buffer (length layout.totalFloats) with A initialised and B and padding zero. */
export function initAdapter(layout: AdapterLayout, cfg: Pick<AdapterConfig, 'init' | 'seed'>): Float32Array {
  const params = new Float32Array(layout.totalFloats);
  for (const e of layout.entries) {
    const rng = mulberry32(moduleSeed(cfg.seed, e.name));
    const A = slotView(params, e.a);
    if (cfg.init === 'gaussian') {
      const std = 1 / layout.rank;
      for (let i = 0; i < A.length; i++) A[i] = std * gaussian(rng);
    } else {
      const bound = 1 / Math.sqrt(e.inFeatures);
      for (let i = 0; i < A.length; i++) A[i] = (2 * rng() - 1) * bound;
    }
  }
  return params;
}
