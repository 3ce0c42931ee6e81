import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run as gpuInfo } from '../../src/cli/commands/gpu-info.ts';
import { run as tune } from '../../src/cli/commands/tune.ts';
import { adapterName } from '../../src/gpu/device.ts';
import { NodeTuningStore } from '../../src/io/tuning-node.ts';
import { gemmPlan, linearForward } from '../../src/kernels/matmul.ts';
import { applyTuning, currentTuning, parseTuning, useStoredTuning, type MatmulTuning } from '../../src/kernels/matmul-tune.ts';
import { f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { maxRelError, randomArray } from '../helpers/numeric.ts';
import { linearRef } from '../reference/matmul.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsugiki-tune-'));
const kept = process.env.TSUGIKI_TUNING_FILE;
afterAll(() => {
  if (kept === undefined) delete process.env.TSUGIKI_TUNING_FILE;
  else process.env.TSUGIKI_TUNING_FILE = kept;
});

async function capture(f: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await f(), out };
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
}

describe('matmul tuning store', () => {
  it('keeps a tuning per adapter and reads anything malformed as none', () => {
    const file = join(dir, 'store.json');
    const store = new NodeTuningStore(file);
    expect(store.read('gpu a')).toBeNull();
    const t: MatmulTuning = { long: 'tiled', maxTx: 8, vec4: false };
    store.write('gpu a', t);
    store.write('gpu b', { long: 'direct', maxTx: 4, vec4: true });
    expect(store.read('gpu a')).toEqual(t);
    expect(store.read('gpu b')).toEqual({ long: 'direct', maxTx: 4, vec4: true });
    writeFileSync(file, '{"gpu a": {"long": "tiled", "maxTx": 3, "vec4": true}}');
    expect(store.read('gpu a')).toBeNull();
    writeFileSync(file, 'not json');
    expect(store.read('gpu a')).toBeNull();
    for (const bad of [null, 'x', { long: 'fast', maxTx: 8, vec4: true }, { long: 'direct', maxTx: 8 }, { long: 'direct', maxTx: 16, vec4: 1 }]) {
      expect(parseTuning(bad)).toBeNull();
    }
  });

  it('narrows the direct tile to maxTx threads across the columns', () => {
    expect(gemmPlan(512, 1024, 64, 'direct', 16)).toEqual({ direct: true, tx: 16, tileM: 32, tileN: 128 });
    expect(gemmPlan(512, 1024, 64, 'direct', 8)).toEqual({ direct: true, tx: 8, tileM: 64, tileN: 64 });
    expect(gemmPlan(512, 1024, 64, 'direct', 4)).toEqual({ direct: true, tx: 4, tileM: 128, tileN: 32 });
    expect(gemmPlan(512, 16, 64, 'direct', 8)).toEqual({ direct: true, tx: 2, tileM: 256, tileN: 16 });
  });
});

describe('tsugiki tune', () => {
  it('times the candidates, keeps the fastest for this adapter, and later commands use it', async () => {
    const gpu = await testGpu();
    const before = currentTuning(gpu);
    process.env.TSUGIKI_TUNING_FILE = join(dir, 'tuning.json');
    const { code, out } = await capture(() => tune(['--json']));
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.candidates).toHaveLength(7);
    const speeds = result.candidates.map((c: { gflops: number }) => c.gflops);
    expect(speeds.every((g: number) => g > 0)).toBe(true);
    expect([...speeds].sort((a, b) => b - a)).toEqual(speeds);
    expect(result.tuning).toEqual(result.candidates[0].tuning);
    const stored = JSON.parse(readFileSync(process.env.TSUGIKI_TUNING_FILE, 'utf8'));
    expect(stored[adapterName(gpu.adapter)]).toEqual(result.tuning);
    const info = await capture(() => gpuInfo(['--json']));
    expect(JSON.parse(info.out).matmul).toEqual({ ...result.tuning, tuned: true });

    // The stored choice applies to a device and computes the same products as the defaults.
    expect(useStoredTuning(gpu, new NodeTuningStore(process.env.TSUGIKI_TUNING_FILE))).toEqual(result.tuning);
    expect(currentTuning(gpu)).toEqual(result.tuning);
    const [m, n, k] = [40, 72, 300];
    const x = randomArray(m * k, 1);
    const w = randomArray(n * k, 2);
    const y = f32Tensor(gpu, 'test.y', [m, n], new Float64Array(m * n));
    const [got] = await run(gpu, (rec) => linearForward(rec, { x: f32Tensor(gpu, 'test.x', [m, k], x), w: f32Tensor(gpu, 'test.w', [n, k], w), y }), y);
    expect(maxRelError(got, linearRef(x, w, m, n, k), 1)).toBeLessThan(2e-5);
    applyTuning(gpu, before);
  });
});
