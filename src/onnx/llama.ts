/**
 * The ONNX decoder graph of the Llama family (Llama, Mistral, Qwen2, GGUF llama), as
 * modeling_llama.py computes it:
 *   x = embed[input_ids]                                            [B, S, C]
 *   per layer: n = RMSNorm(x); q, k, v = n·Wqᵀ(+b), n·Wkᵀ(+b), n·Wvᵀ(+b)
 *              q, k = RoPE(q, k at position_ids) (rotate-half, inv_freq baked in, llama3 scaling included)
 *              x += o_proj(attention(q, cache ⧺ k, cache ⧺ v))
 *              n = RMSNorm(x); x += down(silu(gate(n)) · up(n))
 *   logits = RMSNorm(x) · lm_headᵀ (or the tied embeddings)         [B, S, V]
 */
import { ropeInvFreq } from '../model/rope.ts';
import { int, type GraphBuilder } from './builder.ts';
import { attentionBias, cachedAttention, decoderInputs, linear, logitsOutput, pastInputs, rmsNorm, splitHeads, type Ctx } from './layers.ts';
import { DataType } from './proto.ts';

interface Rotary {
  cos: string;
  sin: string;
}

/** cos and sin of position · inv_freq, [B, 1, S, D] (the two halves repeat, as HF's `cat((freqs, freqs))`). */
function rotaryTables(ctx: Ctx, positionIds: string): Rotary {
  const { g, cfg } = ctx;
  const invFreq = Float32Array.from(ropeInvFreq(cfg));
  const pos = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: int(DataType.FLOAT) }), g.i64([2])]); // [B, S, 1]
  const freqs = g.op('Mul', [pos, g.table('rope.inv_freq', invFreq, [invFreq.length])]); // [B, S, D/2]
  const emb = g.op('Concat', [freqs, freqs], { axis: int(-1) });
  return {
    cos: g.op('Unsqueeze', [g.op('Cos', [emb]), g.i64([1])]),
    sin: g.op('Unsqueeze', [g.op('Sin', [emb]), g.i64([1])]),
  };
}

/** x·cos + rotate_half(x)·sin on [B, N, S, D], rotate_half(x) = [−x₂, x₁]. */
function applyRope(g: GraphBuilder, x: string, r: Rotary, D: number): string {
  const half = D / 2;
  const x1 = g.op('Slice', [x, g.i64([0]), g.i64([half]), g.i64([3])]);
  const x2 = g.op('Slice', [x, g.i64([half]), g.i64([D]), g.i64([3])]);
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: int(3) });
  return g.op('Add', [g.op('Mul', [x, r.cos]), g.op('Mul', [rotated, r.sin])]);
}

export function buildLlamaGraph(ctx: Ctx): void {
  const { g, cfg } = ctx;
  const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I, vocabSize: V } = cfg;
  if (!cfg.rope || cfg.rope.rotaryDims !== D) throw new Error('export: Llama-family models need rotary embeddings over the whole head');
  const inp = decoderInputs(g);
  const past = pastInputs(ctx);
  const embed = g.weight('model.embed_tokens.weight', ctx.w('model.embed_tokens.weight'), [V, C]);
  let x = g.op('Gather', [embed, inp.inputIds], { axis: int(0) }); // [B, S, C]
  const rotary = rotaryTables(ctx, inp.positionIds);
  const bias = attentionBias(ctx, inp);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `model.layers.${l}.`;
    const n = rmsNorm(ctx, x, `${p}input_layernorm`);
    const q = applyRope(g, splitHeads(g, linear(ctx, n, `${p}self_attn.q_proj`, H * D, C, cfg.qkvBias), H, D), rotary, D);
    const k = applyRope(g, splitHeads(g, linear(ctx, n, `${p}self_attn.k_proj`, KV * D, C, cfg.qkvBias), KV, D), rotary, D);
    const v = splitHeads(g, linear(ctx, n, `${p}self_attn.v_proj`, KV * D, C, cfg.qkvBias), KV, D);
    const a = cachedAttention(ctx, l, q, k, v, past[l], bias);
    x = g.op('Add', [x, linear(ctx, a, `${p}self_attn.o_proj`, C, H * D, cfg.attnOutBias)]);
    const n2 = rmsNorm(ctx, x, `${p}post_attention_layernorm`);
    const gate = linear(ctx, n2, `${p}mlp.gate_proj`, I, C, cfg.mlpBias);
    const up = linear(ctx, n2, `${p}mlp.up_proj`, I, C, cfg.mlpBias);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    x = g.op('Add', [x, linear(ctx, act, `${p}mlp.down_proj`, C, I, cfg.mlpBias)]);
  }
  logitsOutput(ctx, rmsNorm(ctx, x, 'model.norm'), embed);
}
