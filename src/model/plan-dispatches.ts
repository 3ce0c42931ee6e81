/**
 * How many 256-byte uniform slots one recorded step takes in the recorder's uniform buffer (one
 * per dispatch; RoPE's carries its frequency table and takes five), counted from the config the
 * way forward.ts, forward-block.ts, backward-block.ts and forward-linear.ts record them.
 * tests/model/plan-run.test.ts checks the count against a real recorder, so a change to the
 * recording shows up there.
 */
import { splitPartsFor } from '../kernels/matmul.ts';
import type { ModelConfig } from './config.ts';
import { layerPrefix, projectionAt } from './modules.ts';
import { blockPaths } from './plan.ts';

/** src/kernels/rope.ts packs 8 words and MAX_FREQS = 256 frequencies: 1056 bytes, five slots. */
const ROPE_SLOTS = Math.ceil(((8 + 256) * 4) / 256);

interface Site {
  lora: boolean;
  /** Sum passes of the adapter's split thin products: h (forward), and dB, dh, dA (backward). */
  splitH: number;
  splitBackward: number;
}

const linearForward = (s: Site) => (s.lora ? 3 + s.splitH : 1);
const linearHidden = (s: Site) => (s.lora ? 1 + s.splitH : 0);
const linearBackward = (s: Site) => (s.lora ? 5 + s.splitBackward : 1);

export interface StepShape {
  /** Layers' adapted module names (full HF names). */
  adapted: ReadonlySet<string>;
  training: boolean;
  recompute: number;
  headChunks: number;
  /** Training with an adapter: rows B·T, rank R, the split-K workspace (MemoryPlan.splitFloats) and the long-contraction kernel (Gpu.longMatmul). */
  split?: { rows: number; rank: number; floats: number; long: 'tiled' | 'direct' };
}

function sites(config: ModelConfig, l: number, o: StepShape) {
  const paths = blockPaths(config);
  const site = (path: string): Site => {
    const p = projectionAt(config, path);
    const lora = o.adapted.has(layerPrefix(config, l) + p.module.path);
    const sp = o.split;
    if (!lora || !sp || sp.floats === 0) return { lora, splitH: 0, splitBackward: 0 };
    const K = p.module.in;
    const N = p.module.blocks ? p.module.blocks[p.block].out : p.module.out;
    const passes = (m: number, n: number, k: number) => (splitPartsFor(m, n, k, sp.floats, sp.long) > 1 ? 1 : 0);
    return { lora, splitH: passes(sp.rows, sp.rank, K), splitBackward: passes(N, sp.rank, sp.rows) + passes(sp.rows, sp.rank, N) + passes(sp.rank, K, sp.rows) };
  };
  return {
    qkv: paths.qkv.map((p) => site(p)),
    o: site(paths.o),
    mlpIn: paths.mlpIn.map((p) => site(p)),
    mlpOut: site(paths.mlpOut),
  };
}

/** Dispatches of block l's forward (without the MLP-out output when `output` is false). */
function blockForwardCount(config: ModelConfig, l: number, o: StepShape, output: boolean): number {
  const s = sites(config, l, o);
  const rope = config.rope ? 2 * ROPE_SLOTS : 0;
  let n = 1 + s.qkv.reduce((a, x) => a + linearForward(x), 0) + rope + 1 + linearForward(s.o) + 1;
  n += 1 + s.mlpIn.reduce((a, x) => a + linearForward(x), 0) + 1;
  n += output ? linearForward(s.mlpOut) + 1 : linearHidden(s.mlpOut);
  return n;
}

function blockBackwardCount(config: ModelConfig, l: number, o: StepShape): number {
  const s = sites(config, l, o);
  const rope = config.rope ? 2 * ROPE_SLOTS : 0;
  return linearBackward(s.mlpOut) + 1 + s.mlpIn.reduce((a, x) => a + linearBackward(x), 0) + 1
    + linearBackward(s.o) + 2 + rope + s.qkv.reduce((a, x) => a + linearBackward(x), 0) + 1;
}

/** Dispatches of one recordStep (forward with loss, and backward when training). */
export function stepDispatches(config: ModelConfig, o: StepShape): number {
  const L = config.layers;
  let n = config.arch === 'gpt2' ? 2 : 1;
  for (let l = 0; l < L; l++) n += blockForwardCount(config, l, o, true);
  n += o.headChunks * (o.training ? 6 : 3) + 2;
  if (!o.training) return n;
  const k = o.recompute;
  for (let l = 0; l < L; l++) {
    n += blockBackwardCount(config, l, o);
    if (k === 0) continue;
    for (let j = Math.floor(l / k) * k; j < l; j++) n += blockForwardCount(config, j, o, true);
    n += blockForwardCount(config, l, o, false);
  }
  return n;
}

/** Gradient norm (partials + finish), the step guard and the AdamW or SGD update. */
export const OPTIMIZER_DISPATCHES = 4;
