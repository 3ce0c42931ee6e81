import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { caseData, caseFlops, oursImpl } from '../../bench/kernels.ts';
import { tfjsImpl, tfjsOn } from '../../bench/tfjs.ts';
import { jaxjsImpl, jaxjsOn } from '../../bench/jaxjs.ts';
import { packRows, TRAIN_WARMUP_STEPS, type TrainBenchReport } from '../../bench/train.ts';
import { parseDataset } from '../../src/data/parse.ts';
import { run as benchCommand } from '../../src/cli/commands/bench.ts';
import { loraFlops } from '../../src/kernels/lora.ts';
import { loadModelFromPath } from '../../src/model/load-node.ts';
import { testGpu } from '../helpers/gpu.ts';
import { maxRelError } from '../helpers/numeric.ts';
import { dropoutMaskRef, loraBackwardRef, loraForwardRef } from '../reference/lora.ts';

const SHAPE = { m: 8, c: 16, r: 4 };
const STORIES = new URL('../../../shared/data/models/stories260K.gguf', import.meta.url).pathname;
const SMS = new URL('../../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url).pathname;

/** Runs `tsugiki bench` with stdout captured and stderr silenced. */
async function benchJson(argv: string[]): Promise<{ code: number; report: { cases?: unknown; training: TrainBenchReport } }> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await benchCommand(argv);
    return { code, report: JSON.parse(out) };
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
}

describe('benchmark', () => {
  it('runs the same LoRA computation in tsugiki, tfjs and jax-js on one adapter, all matching the reference', async () => {
    const gpu = await testGpu();
    const tf = await tfjsOn(gpu);
    const jax = await jaxjsOn();
    const d = caseData(SHAPE);
    const dims = { m: SHAPE.m, k: SHAPE.c, n: SHAPE.c, r: SHAPE.r };
    const v = { x: d.x, w: d.w, a: d.a, b: d.b, scale: d.scale, mask: dropoutMaskRef(dims.m * dims.k, 0, 0) };
    const ref = { y: loraForwardRef(dims, v).y, ...loraBackwardRef(dims, v, d.dy) };
    const ours = oursImpl(gpu, 'lora', SHAPE, d);
    const peer = tfjsImpl(tf, gpu, 'lora', SHAPE, d);
    const jaxPeer = jaxjsImpl(jax, 'lora', SHAPE, d);
    ours.step();
    await ours.drain();
    const a = await ours.outputs();
    const b = await peer.outputs();
    // jax-js's y, dx, dA, dB come from its own autodiff of ⟨y, dy⟩, not from hand-written backward products.
    const j = await jaxPeer.outputs();
    // f32 sums of ≤ 16 terms of size ≲ 1 on every side: agreement to ~1e-6.
    for (const name of ['y', 'dx', 'da', 'db'] as const) {
      expect(maxRelError(a[name], ref[name], 1e-2), `tsugiki ${name}`).toBeLessThan(1e-5);
      expect(maxRelError(b[name], ref[name], 1e-2), `tfjs ${name}`).toBeLessThan(1e-5);
      expect(maxRelError(j[name], ref[name], 1e-2), `jax-js ${name}`).toBeLessThan(1e-5);
    }
    ours.dispose();
    peer.dispose();
    jaxPeer.dispose();
    expect(caseFlops('lora', SHAPE)).toBe(loraFlops(8, 16, 16, 4));
    expect(caseFlops('matmul', SHAPE)).toBe(2 * 8 * 16 * 16);
  });

  it('prints the JSON report of the quick benchmark at one tiny shape', async () => {
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await benchCommand(['--json', '--quick', '--skip-training', '--rows', '8', '--sizes', '16', '--ranks', '4', '--decode-size', '256', '--decode-mib', '0.25']);
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(typeof report.adapter).toBe('string');
    expect(report.training).toBeUndefined();
    expect(report.peak_gflops).toBeGreaterThan(0);
    expect(report.cases.map((c: { name: string }) => c.name)).toEqual(['matmul x·Wᵀ', 'lora fwd+bwd r=4']);
    expect(report.cases[0].shape).toEqual({ M: 8, K: 16, N: 16 });
    expect(report.cases[1].shape).toEqual({ M: 8, K: 16, N: 16, R: 4 });
    for (const c of report.cases) {
      expect(c.gflops).toBeGreaterThan(0);
      expect(c.tfjs_gflops).toBeGreaterThan(0);
      expect(c.jaxjs_gflops).toBeGreaterThan(0);
      // Ratios are consistent with the absolute numbers (up to float rounding).
      expect(c.vs_tfjs).toBeCloseTo(c.gflops / c.tfjs_gflops, 9);
      expect(c.vs_jaxjs).toBeCloseTo(c.gflops / c.jaxjs_gflops, 9);
      expect(c.vs_peak).toBeCloseTo(c.gflops / c.peak_gflops, 9);
      expect(c.peak_gflops).toBeLessThanOrEqual(report.peak_gflops);
      // tsugiki's and tfjs's outputs agree elementwise: f32 sums of 16 terms in different orders
      // differ by ~16·2^-24 of the largest values, measured against a floor of 1% of the largest.
      expect(c.max_rel_diff).toBeLessThan(1e-4);
      expect(c.jaxjs_max_rel_diff).toBeLessThan(1e-4);
    }
    // The M = 1 decode matmul on the rows kernel and the general kernels, against the read bandwidth
    // over the same 256 KiB: Q4_K is 144 bytes per 256 weights, Q8_0 34 per 32.
    expect(report.read_peak_gbs).toBeGreaterThan(0);
    expect(report.read_peak_bytes).toBe(2 ** 18);
    expect(report.decode.map((c: { name: string }) => c.name)).toEqual(['decode x·Wᵀ q4_k', 'decode x·Wᵀ q8_0']);
    for (const [i, c] of report.decode.entries()) {
      expect(c.shape).toEqual({ M: 1, K: 256, N: 256 });
      expect(c.weight_bytes).toBe([144 * 256, 34 * 8 * 256][i]);
      expect(c.copies).toBe(Math.ceil(2 ** 18 / c.weight_bytes));
      expect(c.gbs).toBeGreaterThan(0);
      expect(c.general_gbs).toBeGreaterThan(0);
      expect(c.vs_general).toBeCloseTo(c.gbs / c.general_gbs, 9);
      expect(c.vs_read_peak).toBeCloseTo(c.gbs / report.read_peak_gbs, 9);
      expect(c.general_vs_read_peak).toBeCloseTo(c.general_gbs / report.read_peak_gbs, 9);
      // The two kernels sum 256 products in different orders.
      expect(c.max_rel_diff).toBeLessThan(1e-5);
    }
  });

  it('refuses a malformed size list', async () => {
    await expect(benchCommand(['--sizes', '64,x'])).rejects.toThrow(/--sizes 64,x: expected whole numbers/);
  });

  it('measures the LoRA training step of stories260K at 2 × 16 tokens, with memory against a full fine-tune', async () => {
    const B = 2;
    const T = 16;
    const { code, report } = await benchJson(['--json', '--quick', '--skip-kernels', '--model', STORIES, '--batch-size', `${B}`, '--seq-len', `${T}`, '--steps', '1']);
    expect(code).toBe(0);
    expect(report.cases).toBeUndefined();
    const t = report.training;
    expect(t).toMatchObject({ model: STORIES, data: 'SMSSpamCollection.tsv', batch: B, seq_len: T, rank: 8, steps: 1 });
    for (const k of ['tokens_per_s', 'counted_tokens_per_s', 'step_ms', 'peak_gpu_bytes', 'full_finetune_bytes', 'memory_ratio'] as const) {
      expect(t[k], k).toBeGreaterThan(0);
    }
    expect(Number.isFinite(t.loss)).toBe(true);
    // Throughputs are the step's tokens over its time (up to float rounding).
    expect(t.tokens_per_s).toBeCloseTo((B * T * 1000) / t.step_ms, 6);
    expect(t.counted_tokens_per_s / t.tokens_per_s).toBeCloseTo(t.counted_tokens_per_step / (B * T), 9);

    // Counted targets of the timed step (rows in file order, after the warm-up steps' rows): each
    // row's answer tokens plus EOS, the answer tokenized alone as the trainer's encoder does.
    const model = loadModelFromPath(STORIES);
    const rows = parseDataset(new Uint8Array(readFileSync(SMS)), 'SMSSpamCollection.tsv').rows;
    const timed = packRows(model.tokenizer, rows, B * (TRAIN_WARMUP_STEPS + 1), T).slice(B * TRAIN_WARMUP_STEPS);
    const expected = timed.reduce((n, r) => n + model.tokenizer.encode(r.output, { addBos: false }).length + 1, 0);
    expect(t.counted_tokens_per_step).toBe(expected);

    // stories260K has 292,800 parameters (shared/data/README.md). Its weights are f32: 4 bytes each,
    // plus at most 15 bytes of 16-byte alignment per tensor (5 layers × 9 + 2 tensors).
    const P = 292_800;
    expect(t.parameters).toBe(P);
    expect(t.planned.weights_bytes).toBeGreaterThanOrEqual(4 * P);
    expect(t.planned.weights_bytes).toBeLessThanOrEqual(4 * P + 15 * 47);
    // r = 8 on q,k,v,o,gate,up,down (C = 64, KV·D = 32, I = 172): 8·(128 + 96 + 96 + 128 + 3·236)
    // floats per layer, 5 layers, stored 5 times (params, grads, AdamW m, v and the trainer's best
    // adapter), plus the gradient-norm scratch; the layout may pad each of the 70 A/B slots by up
    // to 63 floats for aligned views.
    const adapterFloats = 5 * 8 * (128 + 96 + 96 + 128 + 3 * 236);
    expect(t.planned.adapter_bytes).toBeGreaterThanOrEqual(20 * adapterFloats);
    expect(t.planned.adapter_bytes).toBeLessThanOrEqual(20 * (adapterFloats + 70 * 63) + 4096);
    expect(t.planned.total_bytes).toBe(t.planned.weights_bytes + t.planned.activation_bytes + t.planned.adapter_bytes);
    // The run plan is what the pool holds during a step: the measured peak is within 5% of it.
    expect(Math.abs(t.peak_gpu_bytes - t.planned.total_bytes) / t.planned.total_bytes).toBeLessThan(0.05);
    // A full fine-tune: weights, grads, m and v in f32 for every parameter, plus the same activations.
    expect(t.full_finetune_bytes).toBe(16 * P + t.planned.activation_bytes);
    expect(t.memory_ratio).toBeCloseTo(t.full_finetune_bytes / t.planned.total_bytes, 12);
    expect(t.memory_ratio).toBeGreaterThan(1);
  }, 60_000);

  it('refuses to skip both parts, and names a missing data file', async () => {
    await expect(benchCommand(['--skip-kernels', '--skip-training'])).rejects.toThrow(/leave nothing to measure/);
    await expect(benchCommand(['--skip-kernels', '--model', STORIES, '--data', '/nonexistent/rows.csv'])).rejects.toThrow(/--data \/nonexistent\/rows.csv: no such file or folder/);
  });
});
