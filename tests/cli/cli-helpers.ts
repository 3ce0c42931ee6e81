/** Runs a CLI command module in-process and captures what it writes to stdout. */
import { vi } from 'vitest';
import { ReferenceModel } from '../reference/model.ts';

export async function capture(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await run(argv);
    return { code, out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

/** The mean of −log p(ids[i] | ids[<i]) over mask[i] = 1, and the sum, from the float64 reference. */
export function referenceRowLoss(ref: ReferenceModel, ids: number[], mask: number[]): { mean: number; sum: number } {
  const V = ref.config.vocabSize;
  const logits = ref.forward(ids);
  let sum = 0;
  let n = 0;
  for (let i = 1; i < ids.length; i++) {
    if (mask[i] !== 1) continue;
    const row = logits.subarray((i - 1) * V, i * V);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    sum += max + Math.log(z) - row[ids[i]];
    n++;
  }
  return { mean: sum / n, sum };
}
