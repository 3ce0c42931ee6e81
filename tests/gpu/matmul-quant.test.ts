/**
 * Matmuls and the embedding lookup on quantized weights (real blocks written by llama.cpp's
 * quantizer) against the same kernels on the CPU-dequantized weights uploaded as f32, and against
 * float64 references: x·Wᵀ and dY·W on the tiled and the direct kernel, at shapes that are not
 * multiples of the tiles.
 */
import { describe, expect, it } from 'vitest';
import { quantBlock, QUANT_NAMES, type QuantName } from '../../src/io/ggml-types.ts';
import { embeddingLookup } from '../../src/kernels/embedding.ts';
import { gemmPlan, linearBackwardInput, linearForward, splitScratchElements } from '../../src/kernels/matmul.ts';
import { emptyTensor, f32Tensor, run, testGpu } from '../helpers/gpu.ts';
import { randomArray, relToMax } from '../helpers/numeric.ts';
import { blocksOf, quantWeight as weight } from '../helpers/quant-blocks.ts';
import { linearDxRef, linearRef } from '../reference/matmul.ts';

// Quantized vs f32 on the same kernel: the same sums in the same order; only the dequantized
// values may differ by the f32 rounding of d·q − m (ggml's own f32 formula) — a few 1e-8.
const SAME_KERNEL = 1e-6;
// Against float64: f32 sums of ≤ 512 products, relative to the output's scale.
const VS_F64 = 2e-5;

// The four places a kernel reads a weight. Each type runs on one of them, in turn, so every place
// is checked with 32-element blocks and with 256-element K-quant blocks (a pipeline per type and
// place costs ~1 s to build on SwiftShader; TSUGIKI_ALL_PATHS=1 runs all forty).
const PATHS = ['forward tiled', 'forward direct', 'dY·W tiled', 'dY·W direct'] as const;

describe.each(QUANT_NAMES.map((t, i) => [t, i] as const))('%s weights on the GPU', (type, index) => {
  const small = quantBlock(type).blockSize === 32;
  // Rows of whole blocks; K ≥ 256 for the tiled forward, N ≥ 256 for the tiled dY·W.
  const kTiled = small ? 288 : 512;
  const kRow = small ? 96 : 256;
  const paths = process.env.TSUGIKI_ALL_PATHS ? PATHS : [PATHS[index % 4]];

  it(`${paths.join(', ')} equal${paths.length > 1 ? '' : 's'} the f32 kernel on the dequantized weights`, async () => {
    const gpu = await testGpu();
    const blocks = blocksOf(type);
    const upload = (shape: number[], dtype: QuantName, raw: Uint8Array) => gpu.pool.upload(`test.w.${dtype}`, shape, dtype, raw);
    const all = [
      { name: 'forward tiled', m: 37, n: 45, k: kTiled, dx: false },
      { name: 'forward direct', m: 37, n: 13, k: kRow, dx: false },
      { name: 'dY·W tiled', m: 37, n: 300, k: kRow, dx: true },
      { name: 'dY·W direct', m: 37, n: 45, k: kRow, dx: true },
    ];
    const cases = all.filter((c) => (paths as readonly string[]).includes(c.name));
    const kept = gpu.longMatmul;
    try {
      for (const [i, c] of cases.entries()) {
        // The tiled cases run tiled on every adapter (a CPU adapter would run them direct).
        gpu.longMatmul = c.name.endsWith('tiled') ? 'tiled' : kept;
        const direct = c.dx ? gemmPlan(c.m, c.k, c.n, gpu.longMatmul).direct : gemmPlan(c.m, c.n, c.k, gpu.longMatmul).direct;
        expect(direct, c.name).toBe(c.name.endsWith('direct'));
        const w = weight(upload, type, blocks, c.n, c.k);
        const wf = f32Tensor(gpu, 'test.wf', [c.n, c.k], w.exact);
        const input = randomArray(c.m * (c.dx ? c.n : c.k), 100 + i);
        const x = f32Tensor(gpu, 'test.x', [c.m, c.dx ? c.n : c.k], input);
        const outShape = [c.m, c.dx ? c.k : c.n];
        const [yq, yf] = [emptyTensor(gpu, 'test.yq', outShape), emptyTensor(gpu, 'test.yf', outShape)];
        const scratch = emptyTensor(gpu, 'test.scratch', [splitScratchElements(outShape[0], outShape[1])]);
        const [gotQ, gotF] = await run(gpu, (rec) => {
          if (c.dx) {
            linearBackwardInput(rec, { dy: x, w: w.t, dx: yq });
            linearBackwardInput(rec, { dy: x, w: wf, dx: yf });
          } else {
            linearForward(rec, { x, w: w.t, y: yq, scratch });
            linearForward(rec, { x, w: wf, y: yf, scratch });
          }
        }, yq, yf);
        const ref = c.dx ? linearDxRef(input, w.exact, c.m, c.n, c.k) : linearRef(input, w.exact, c.m, c.n, c.k);
        expect(relToMax(gotQ, gotF), `${type} ${c.name} vs f32 kernel`).toBeLessThan(SAME_KERNEL);
        expect(relToMax(gotQ, ref), `${type} ${c.name} vs float64`).toBeLessThan(VS_F64);
        for (const t of [w.t, wf, x, yq, yf, scratch]) gpu.pool.releaseTensor(t);
      }
    } finally {
      gpu.longMatmul = kept;
    }
  });

  it('looks up embedding rows of the quantized table (ids out of range give zeros)', async () => {
    const gpu = await testGpu();
    const [v, c] = [small ? 40 : 9, kRow];
    const w = weight((shape, dtype, raw) => gpu.pool.upload('test.table', shape, dtype, raw), type, blocksOf(type), v, c);
    const ids = [3, 0, v - 1, -1, v, 5, 3];
    const out = emptyTensor(gpu, 'test.out', [ids.length, c]);
    const [got] = await run(gpu, (rec) => embeddingLookup(rec, gpu.pool.upload('test.ids', [ids.length], 'i32', Int32Array.from(ids)), w.t, out), out);
    const want = new Float64Array(ids.length * c);
    ids.forEach((id, r) => { if (id >= 0 && id < v) want.set(w.exact.subarray(id * c, (id + 1) * c), r * c); });
    expect(relToMax(got, want)).toBeLessThan(SAME_KERNEL);
  });
});
