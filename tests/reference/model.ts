/**
 * An independent, readable CPU float64 forward of whole networks, written from the Hugging Face
 * modelling code (modeling_llama.py / modeling_mistral.py / modeling_qwen2.py / modeling_qwen3.py /
 * modeling_gemma3.py / modeling_gpt2.py),
 * for tests only. No cache, no batching, no cleverness: every tensor is a Float64Array in
 * row-major order, weights HF `[out, in]`.
 *
 * llama family, per layer:  n = RMSNorm(x);  x += o_proj(attn(RoPE(q(n)), RoPE(k(n)), v(n)))
 *                           n = RMSNorm(x);  x += down(silu(gate(n)) · up(n))
 *   Qwen3 and Gemma 3: q and k RMSNormed per head (q_norm / k_norm [D]) before RoPE.
 *   Gemma 3: x = embed · √C; every RMSNorm multiplies by (1 + w); scores scaled by
 *   query_pre_attn_scalar^-½; x += post_attention_layernorm(attn), then with
 *   n = pre_feedforward_layernorm(x): x += post_feedforward_layernorm(down(gelu_tanh(gate(n)) · up(n)));
 *   sliding layers attend to the last W positions with their own RoPE base (rope_local_base_freq).
 * gpt2, per layer:          n = LN(x);  x += c_proj(attn(split(c_attn(n))));  n = LN(x);  x += c_proj(gelu_tanh(c_fc(n)))
 * then the final norm and lm_head (or the tied embeddings): logits [T, V].
 *
 * Attention: query t sees key s when s ≤ t, attentionMask[s] = 1 and (sliding window W) t − s < W;
 * a query that sees nothing outputs zeros. RoPE is rotate-half with HF's inverse frequencies.
 * LoRA (PEFT): y += scale · x Aᵀ Bᵀ with A [r, in], B [out, r], per module name.
 */
import type { ModelConfig } from '../../src/model/config.ts';
import { ropeInvFreq } from '../../src/model/rope.ts';
import type { WeightSource } from '../../src/model/weights.ts';

export interface RefLora {
  /** [r, in] */
  A: ArrayLike<number>;
  /** [out, r] */
  B: ArrayLike<number>;
  rank: number;
  scale: number;
}

export interface RefForwardOptions {
  /** Position of each token (default 0 … T−1). */
  positionIds?: number[];
  /** HF attention_mask: 1 for real tokens, 0 for padding (never attended to). Default all 1. */
  attentionMask?: number[];
  /** LoRA adapters by module name, e.g. `model.layers.0.self_attn.q_proj` or `transformer.h.1.attn.c_attn`. */
  lora?: Record<string, RefLora>;
  /** Compute logits for the last position only (returns [1, V]). */
  lastOnly?: boolean;
}

export class ReferenceModel {
  private cache = new Map<string, Float64Array>();
  private invFreq: Float64Array | null;
  private invFreqLocal: Float64Array | null;

  constructor(readonly config: ModelConfig, readonly weights: WeightSource) {
    this.invFreq = config.rope ? ropeInvFreq(config) : null;
    this.invFreqLocal = config.ropeLocal ? ropeInvFreq({ rope: config.ropeLocal }) : null;
  }

  /** Layer l's sliding window (null: full attention), from the config as HF's layer_types. */
  window(l: number): number | null {
    return this.config.layerWindows ? this.config.layerWindows[l] : this.config.slidingWindow;
  }

  /** PyTorch's gelu(approximate='tanh'), the GeGLU gate of Gemma (replaceable to model another engine's). */
  gelu(u: number): number {
    return 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
  }

  /** A weight as float64 (cached). */
  w(name: string): Float64Array {
    let t = this.cache.get(name);
    if (!t) {
      t = Float64Array.from(this.weights.toF32(name));
      this.cache.set(name, t);
    }
    return t;
  }

  /** Replaces a weight with float64 values (for tests that build equivalent networks exactly). */
  setWeight(name: string, data: Float64Array): void {
    this.cache.set(name, data);
  }

  /** y [T, out] = x [T, in] Wᵀ + b + scale · x Aᵀ Bᵀ. */
  linear(x: Float64Array, T: number, module: string, out: number, inp: number, hasBias: boolean, lora?: Record<string, RefLora>): Float64Array {
    const W = this.w(`${module}.weight`);
    const b = hasBias ? this.w(`${module}.bias`) : null;
    const y = new Float64Array(T * out);
    for (let t = 0; t < T; t++) {
      for (let o = 0; o < out; o++) {
        let s = b ? b[o] : 0;
        for (let i = 0; i < inp; i++) s += x[t * inp + i] * W[o * inp + i];
        y[t * out + o] = s;
      }
    }
    const ad = lora?.[module];
    if (ad) {
      const r = ad.rank;
      for (let t = 0; t < T; t++) {
        const xa = new Float64Array(r);
        for (let k = 0; k < r; k++) for (let i = 0; i < inp; i++) xa[k] += x[t * inp + i] * ad.A[k * inp + i];
        for (let o = 0; o < out; o++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += xa[k] * ad.B[o * r + k];
          y[t * out + o] += ad.scale * s;
        }
      }
    }
    return y;
  }

  norm(x: Float64Array, T: number, name: string, C = this.config.hidden): Float64Array {
    const eps = this.config.normEps;
    const stored = this.w(`${name}.weight`);
    // Gemma3RMSNorm: x̂ · (1 + w).
    const g = this.config.normPlusOne ? stored.map((v) => 1 + v) : stored;
    const beta = this.config.norm === 'layernorm' ? this.w(`${name}.bias`) : null;
    const y = new Float64Array(T * C);
    for (let t = 0; t < T; t++) {
      const row = x.subarray(t * C, (t + 1) * C);
      let mean = 0;
      if (beta) {
        for (const v of row) mean += v;
        mean /= C;
      }
      let sq = 0;
      for (const v of row) sq += (v - mean) ** 2;
      const inv = 1 / Math.sqrt(sq / C + eps);
      for (let c = 0; c < C; c++) y[t * C + c] = (row[c] - mean) * inv * g[c] + (beta ? beta[c] : 0);
    }
    return y;
  }

  /** Rotate-half RoPE in place on [T, nHeads, D], with layer l's frequencies. */
  rope(x: Float64Array, T: number, nHeads: number, positions: number[], l = 0): void {
    const D = this.config.headDim;
    const half = this.config.rope!.rotaryDims / 2;
    const f = this.invFreqLocal && this.window(l) !== null ? this.invFreqLocal : this.invFreq!;
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < nHeads; h++) {
        const base = (t * nHeads + h) * D;
        for (let j = 0; j < half; j++) {
          const angle = positions[t] * f[j];
          const cos = Math.cos(angle), sin = Math.sin(angle);
          const x1 = x[base + j], x2 = x[base + j + half];
          x[base + j] = x1 * cos - x2 * sin;
          x[base + j + half] = x2 * cos + x1 * sin;
        }
      }
    }
  }

  /** Causal GQA attention of layer l: q [T, H, D], k/v [T, KV, D] → [T, H·D]. */
  attention(q: Float64Array, k: Float64Array, v: Float64Array, T: number, mask: number[], l = 0): Float64Array {
    const { heads: H, kvHeads: KV, headDim: D } = this.config;
    const slidingWindow = this.window(l);
    const scale = this.config.attnScale ?? 1 / Math.sqrt(D);
    const group = H / KV;
    const out = new Float64Array(T * H * D);
    const scores = new Float64Array(T);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group); // HF repeat_kv: query head h uses key/value head h // (H / KV)
      for (let t = 0; t < T; t++) {
        let max = -Infinity;
        for (let s = 0; s < T; s++) {
          const visible = s <= t && mask[s] === 1 && (slidingWindow === null || t - s < slidingWindow);
          if (!visible) {
            scores[s] = -Infinity;
            continue;
          }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[(t * H + h) * D + d] * k[(s * KV + g) * D + d];
          scores[s] = dot * scale;
          max = Math.max(max, scores[s]);
        }
        if (max === -Infinity) continue;
        let sum = 0;
        for (let s = 0; s < T; s++) {
          scores[s] = scores[s] === -Infinity ? 0 : Math.exp(scores[s] - max);
          sum += scores[s];
        }
        for (let s = 0; s < T; s++) {
          const p = scores[s] / sum;
          if (p === 0) continue;
          for (let d = 0; d < D; d++) out[(t * H + h) * D + d] += p * v[(s * KV + g) * D + d];
        }
      }
    }
    return out;
  }

  /** Logits [T, V] (or [1, V] with lastOnly) for one token sequence. */
  forward(tokens: number[], opts: RefForwardOptions = {}): Float64Array {
    const c = this.config;
    const T = tokens.length;
    const { hidden: C, vocabSize: V } = c;
    const positions = opts.positionIds ?? tokens.map((_, i) => i);
    const mask = opts.attentionMask ?? tokens.map(() => 1);
    const gpt2 = c.arch === 'gpt2';
    const embedName = gpt2 ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
    const E = this.w(embedName);
    let x: Float64Array = new Float64Array(T * C);
    for (let t = 0; t < T; t++) {
      if (tokens[t] < 0 || tokens[t] >= V) throw new Error(`token ${tokens[t]} at ${t} is outside the vocabulary (0..${V - 1})`);
      for (let i = 0; i < C; i++) x[t * C + i] = E[tokens[t] * C + i] * (c.embedScale ?? 1);
      if (gpt2) {
        const P = this.w('transformer.wpe.weight');
        for (let i = 0; i < C; i++) x[t * C + i] += P[positions[t] * C + i];
      }
    }
    for (let l = 0; l < c.layers; l++) x = gpt2 ? this.gpt2Block(x, T, l, mask, opts.lora) : this.llamaBlock(x, T, l, positions, mask, opts.lora);
    x = this.norm(x, T, gpt2 ? 'transformer.ln_f' : 'model.norm');
    const first = opts.lastOnly ? T - 1 : 0;
    const head = c.tieWordEmbeddings ? embedName.replace(/\.weight$/, '') : 'lm_head';
    return this.linear(x.subarray(first * C), T - first, head, V, C, false, opts.lora);
  }

  private llamaBlock(x: Float64Array, T: number, l: number, positions: number[], mask: number[], lora?: Record<string, RefLora>): Float64Array {
    const { hidden: C, heads: H, kvHeads: KV, headDim: D, intermediate: I } = this.config;
    const p = `model.layers.${l}.`;
    const n = this.norm(x, T, `${p}input_layernorm`);
    const q = this.linear(n, T, `${p}self_attn.q_proj`, H * D, C, this.config.qkvBias, lora);
    const k = this.linear(n, T, `${p}self_attn.k_proj`, KV * D, C, this.config.qkvBias, lora);
    const v = this.linear(n, T, `${p}self_attn.v_proj`, KV * D, C, this.config.qkvBias, lora);
    const sandwich = !!this.config.sandwichNorms;
    if (this.config.qkNorm) {
      // q_norm / k_norm: RMSNorm over each head's D values (rows of [T·heads, D]).
      q.set(this.norm(q, T * H, `${p}self_attn.q_norm`, D));
      k.set(this.norm(k, T * KV, `${p}self_attn.k_norm`, D));
    }
    this.rope(q, T, H, positions, l);
    this.rope(k, T, KV, positions, l);
    let a = this.linear(this.attention(q, k, v, T, mask, l), T, `${p}self_attn.o_proj`, C, H * D, this.config.attnOutBias, lora);
    if (sandwich) a = this.norm(a, T, `${p}post_attention_layernorm`);
    const h = x.map((xi, i) => xi + a[i]);
    const n2 = this.norm(h, T, sandwich ? `${p}pre_feedforward_layernorm` : `${p}post_attention_layernorm`);
    const gate = this.linear(n2, T, `${p}mlp.gate_proj`, I, C, this.config.mlpBias, lora);
    const up = this.linear(n2, T, `${p}mlp.up_proj`, I, C, this.config.mlpBias, lora);
    const act = this.config.activation === 'gelu_tanh' ? gate.map((g, i) => this.gelu(g) * up[i]) : gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
    let m = this.linear(act, T, `${p}mlp.down_proj`, C, I, this.config.mlpBias, lora);
    if (sandwich) m = this.norm(m, T, `${p}post_feedforward_layernorm`);
    return h.map((hi, i) => hi + m[i]);
  }

  private gpt2Block(x: Float64Array, T: number, l: number, mask: number[], lora?: Record<string, RefLora>): Float64Array {
    const { hidden: C, heads: H, headDim: D, intermediate: I } = this.config;
    const p = `transformer.h.${l}.`;
    const n = this.norm(x, T, `${p}ln_1`);
    const qkv = this.linear(n, T, `${p}attn.c_attn`, 3 * C, C, true, lora); // [T, 3C]: q | k | v
    const q = new Float64Array(T * C), k = new Float64Array(T * C), v = new Float64Array(T * C);
    for (let t = 0; t < T; t++) {
      q.set(qkv.subarray(t * 3 * C, t * 3 * C + C), t * C);
      k.set(qkv.subarray(t * 3 * C + C, t * 3 * C + 2 * C), t * C);
      v.set(qkv.subarray(t * 3 * C + 2 * C, t * 3 * C + 3 * C), t * C);
    }
    const a = this.linear(this.attention(q, k, v, T, mask), T, `${p}attn.c_proj`, C, H * D, true, lora);
    const h = x.map((xi, i) => xi + a[i]);
    const n2 = this.norm(h, T, `${p}ln_2`);
    const fc = this.linear(n2, T, `${p}mlp.c_fc`, I, C, true, lora);
    const gelu = fc.map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3))));
    const m = this.linear(gelu, T, `${p}mlp.c_proj`, C, I, true, lora);
    return h.map((hi, i) => hi + m[i]);
  }

  /**
   * Greedy decoding by re-running the whole forward for every new token; returns the new tokens.
   * Ties go to the lowest id (as torch.argmax). Stops after a token in `stopIds`.
   */
  greedy(prompt: number[], maxNewTokens: number, opts: { stopIds?: number[]; lora?: Record<string, RefLora> } = {}): number[] {
    const tokens = [...prompt];
    const out: number[] = [];
    for (let i = 0; i < maxNewTokens; i++) {
      const logits = this.forward(tokens, { lastOnly: true, lora: opts.lora });
      const next = argmax(logits);
      out.push(next);
      tokens.push(next);
      if (opts.stopIds?.includes(next)) break;
    }
    return out;
  }
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
