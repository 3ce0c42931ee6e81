/**
 * llama.cpp as an independent judge, through node-llama-cpp's prebuilt CPU binary: load a GGUF file
 * (optionally with GGUF LoRA adapters) and read its next-token probabilities at every position of a
 * token sequence, or its greedy continuation. llama.cpp quantizes activations for its quantized
 * dot products (Q8_0/Q8_K), so its numbers on quantized weights differ from an f32 engine's by
 * more than rounding: compare with a stated tolerance.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';

const asTokens = (ids: readonly number[]) => ids as unknown as Token[];

let llamaPromise: Promise<Llama> | null = null;

function llama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
  return llamaPromise;
}

export interface LlamaCppRun {
  /** The GGUF file. */
  model: string;
  /** GGUF LoRA adapter files with their scales (llama.cpp multiplies alpha/r by the scale). */
  adapters?: { file: string; scale?: number }[];
  /** Context size (default: the sequence length rounded up to 64). */
  contextSize?: number;
}

async function withSequence<T>(run: LlamaCppRun, tokens: number, body: (model: LlamaModel, seq: ReturnType<Awaited<ReturnType<LlamaModel['createContext']>>['getSequence']>) => Promise<T>): Promise<T> {
  const l = await llama();
  const model = await l.loadModel({ modelPath: run.model, gpuLayers: 0 });
  try {
    const contextSize = run.contextSize ?? Math.max(64, Math.ceil(tokens / 64) * 64);
    const ctx = await model.createContext({
      contextSize,
      batchSize: contextSize,
      threads: 2,
      // llama.cpp's defaults (flash attention, an f16 KV cache) round attention to f16: ~7e-4 off in
      // probability on stories260K. Plain f32 attention leaves the comparison about the weights (~1.5e-6).
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      lora: run.adapters ? { adapters: run.adapters.map((a) => ({ filePath: a.file, scale: a.scale ?? 1 })) } : undefined,
    });
    try {
      return await body(model, ctx.getSequence());
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/**
 * llama.cpp's probabilities of the next token after each position of `ids` (row t: p(· | ids[0..t])),
 * as [ids.length][V] with V the model's vocabulary size.
 */
export async function llamaCppNextTokenProbs(run: LlamaCppRun, ids: readonly number[]): Promise<Float64Array[]> {
  return withSequence(run, ids.length, async (_model, seq) => {
    const out = await seq.controlledEvaluate(asTokens(ids).map((t) => [t, { generateNext: { probabilities: true } }] as const));
    return out.map((r, t) => {
      const probs = r?.next?.probabilities;
      if (!probs) throw new Error(`llama.cpp returned no probabilities at position ${t}`);
      let size = probs.size;
      for (const token of probs.keys()) size = Math.max(size, token + 1);
      const row = new Float64Array(size);
      for (const [token, p] of probs) row[token] = p;
      return row;
    });
  });
}

/**
 * Mean negative log-likelihood llama.cpp gives the tokens of `ids` where `mask[t]` is 1 (the
 * token at t predicted from ids[0..t-1]; mask[0] must be 0), as `tsugiki eval` computes a row's loss.
 */
export function llamaCppMaskedLoss(run: LlamaCppRun, ids: readonly number[], mask: readonly number[]): Promise<number> {
  return llamaCppMeanMaskedLoss(run, [{ ids, mask }]);
}

/** Mean over rows of llamaCppMaskedLoss, with the model loaded once (the cache cleared between rows). */
export async function llamaCppMeanMaskedLoss(run: LlamaCppRun, rows: readonly { ids: readonly number[]; mask: readonly number[] }[]): Promise<number> {
  const longest = Math.max(...rows.map((r) => r.ids.length));
  return withSequence(run, longest, async (_model, seq) => {
    let total = 0;
    for (const { ids, mask } of rows) {
      if (mask[0]) throw new Error('the first token has no prediction: mask[0] must be 0');
      await seq.clearHistory();
      const out = await seq.controlledEvaluate(asTokens(ids).map((t) => [t, { generateNext: { probabilities: true } }] as const));
      let sum = 0;
      let n = 0;
      for (let t = 1; t < ids.length; t++) {
        if (!mask[t]) continue;
        const p = out[t - 1]?.next?.probabilities?.get(ids[t] as unknown as Token);
        if (p === undefined) throw new Error(`llama.cpp returned no probability for token ${ids[t]} at position ${t - 1}`);
        sum -= Math.log(p);
        n++;
      }
      total += sum / n;
    }
    return total / rows.length;
  });
}

/** llama.cpp's greedy continuation of `prompt` (token ids), `count` tokens, stopping at end of generation. */
export async function llamaCppGreedy(run: LlamaCppRun, prompt: readonly number[], count: number): Promise<number[]> {
  return withSequence(run, prompt.length + count, async (model, seq) => {
    const out: number[] = [];
    for await (const token of seq.evaluate(asTokens(prompt), { temperature: 0 })) {
      if (model.isEogToken(token)) break;
      out.push(token as unknown as number);
      if (out.length >= count) break;
    }
    return out;
  });
}

/** Frees llama.cpp's backend (call from afterAll). */
export async function disposeLlamaCpp(): Promise<void> {
  if (!llamaPromise) return;
  const l = await llamaPromise;
  llamaPromise = null;
  await l.dispose();
}

/** llama.cpp's tokens for each text with the GGUF file's own vocabulary (no BOS; special tokens parsed when `special`). */
export async function llamaCppTokenize(modelPath: string, texts: readonly string[], special = false): Promise<number[][]> {
  const l = await llama();
  const model = await l.loadModel({ modelPath, gpuLayers: 0, vocabOnly: true });
  try {
    return texts.map((text) => Array.from(model.tokenize(text, special), (t) => t as unknown as number));
  } finally {
    await model.dispose();
  }
}
