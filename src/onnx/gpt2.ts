/**
 * The ONNX decoder graph of GPT-2, as modeling_gpt2.py computes it:
 *   x = wte[input_ids] + wpe[position_ids]                          [B, S, C]
 *   per layer: n = LN(x); q | k | v = n·c_attnᵀ + b (fused, q rows first)
 *              x += c_proj(attention(q, cache ⧺ k, cache ⧺ v))
 *              n = LN(x); x += c_proj(gelu_tanh(c_fc(n)))
 *   logits = LN(x) · wteᵀ (tied) or lm_headᵀ                        [B, S, V]
 * Weights come in the engine's [out, in] layout (Conv1D transposed at load).
 */
import { int } from './builder.ts';
import { attentionBias, cachedAttention, decoderInputs, layerNorm, linear, logitsOutput, pastInputs, splitHeads, type Ctx } from './layers.ts';

/** 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), GELU's tanh form ("gelu_new"). */
function geluTanh(ctx: Ctx, u: string): string {
  const { g } = ctx;
  const cube = g.op('Mul', [g.op('Mul', [u, u]), u]);
  const inner = g.op('Mul', [g.op('Add', [u, g.op('Mul', [cube, g.f32([0.044715], [])])]), g.f32([Math.sqrt(2 / Math.PI)], [])]);
  return g.op('Mul', [g.op('Mul', [u, g.f32([0.5], [])]), g.op('Add', [g.f32([1], []), g.op('Tanh', [inner])])]);
}

export function buildGpt2Graph(ctx: Ctx): void {
  const { g, cfg } = ctx;
  const { hidden: C, heads: H, headDim: D, intermediate: I, vocabSize: V } = cfg;
  const inp = decoderInputs(g);
  const past = pastInputs(ctx);
  const wte = g.weight('transformer.wte.weight', ctx.w('transformer.wte.weight'), [V, C]);
  const wpe = g.weight('transformer.wpe.weight', ctx.w('transformer.wpe.weight'), [cfg.maxPositions, C]);
  let x = g.op('Add', [g.op('Gather', [wte, inp.inputIds], { axis: int(0) }), g.op('Gather', [wpe, inp.positionIds], { axis: int(0) })]);
  const bias = attentionBias(ctx, inp);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `transformer.h.${l}.`;
    const qkv = linear(ctx, layerNorm(ctx, x, `${p}ln_1`), `${p}attn.c_attn`, 3 * C, C, true); // [B, S, 3C]
    const part = (i: number) => g.op('Slice', [qkv, g.i64([i * C]), g.i64([(i + 1) * C]), g.i64([2])]);
    const q = splitHeads(g, part(0), H, D);
    const k = splitHeads(g, part(1), H, D);
    const v = splitHeads(g, part(2), H, D);
    const a = cachedAttention(ctx, l, q, k, v, past[l], bias);
    x = g.op('Add', [x, linear(ctx, a, `${p}attn.c_proj`, C, C, true)]);
    const fc = linear(ctx, layerNorm(ctx, x, `${p}ln_2`), `${p}mlp.c_fc`, I, C, true);
    x = g.op('Add', [x, linear(ctx, geluTanh(ctx, fc), `${p}mlp.c_proj`, C, I, true)]);
  }
  logitsOutput(ctx, layerNorm(ctx, x, 'transformer.ln_f'), wte);
}
