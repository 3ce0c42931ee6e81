/**
 * Tiny random checkpoints in Hugging Face layout, for tests: config.json + model.safetensors
 * (or two shards with their index) + a 97-token byte-level tokenizer.json. Names, shapes and
 * the GPT-2 Conv1D `[in, out]` layout are written out here by hand, independently of
 * src/model. Seeded: the same options give the same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f32ToBf16, f32ToF16 } from '../../src/io/halfs.ts';
import { writeSafetensors, type SafeDtype, type SafeTensorInput } from '../../src/io/safetensors.ts';
import { rng } from './numeric.ts';

export type TinyKind = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma3' | 'gpt2';

export interface TinyOptions {
  dtype?: SafeDtype;
  seed?: number;
  /** Split the tensors over this many files with a model.safetensors.index.json (default 1). */
  shards?: number;
  /** GPT-2 only: store keys without the `transformer.` prefix, as the openai-community/gpt2 files do. */
  gpt2WithoutPrefix?: boolean;
  /** Extra or replaced config.json fields. */
  config?: Record<string, unknown>;
}

const LLAMA3_SCALING = { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64, rope_type: 'llama3' };

/** The config.json of each tiny model. */
export function tinyConfigJson(kind: TinyKind): Record<string, unknown> {
  const llamaLike = { hidden_act: 'silu', rms_norm_eps: 1e-5, bos_token_id: 0, eos_token_id: 0, torch_dtype: 'float32', max_position_embeddings: 128 };
  switch (kind) {
    case 'llama':
      return { ...llamaLike, architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 100, hidden_size: 32, intermediate_size: 48,
        num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, rope_theta: 10000.0,
        rope_scaling: LLAMA3_SCALING, attention_bias: false, mlp_bias: false, tie_word_embeddings: false };
    case 'mistral':
      return { ...llamaLike, architectures: ['MistralForCausalLM'], model_type: 'mistral', vocab_size: 97, hidden_size: 32, intermediate_size: 64,
        num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, rope_theta: 10000.0, sliding_window: 4096, tie_word_embeddings: false };
    case 'qwen2':
      return { ...llamaLike, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 100, hidden_size: 24, intermediate_size: 40,
        num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 1000000.0, rms_norm_eps: 1e-6,
        use_sliding_window: false, sliding_window: 32768, tie_word_embeddings: true };
    case 'qwen3':
      // head_dim 12 is not hidden / heads (32 / 4): Qwen3 sets it on its own.
      return { ...llamaLike, architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 100, hidden_size: 32, intermediate_size: 40,
        num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 12, rope_theta: 1000000.0, rms_norm_eps: 1e-6,
        attention_bias: false, use_sliding_window: false, sliding_window: null, max_window_layers: 2, tie_word_embeddings: true };
    case 'gemma3':
      // Layers 0 and 2 slide over 3 positions (local RoPE base), layer 1 attends to all; the score
      // scale 1/√12 differs from 1/√head_dim.
      return { architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', vocab_size: 100, hidden_size: 24, intermediate_size: 40,
        num_hidden_layers: 3, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, hidden_activation: 'gelu_pytorch_tanh',
        max_position_embeddings: 128, rms_norm_eps: 1e-6, rope_theta: 1000000.0, rope_local_base_freq: 10000.0, rope_scaling: null,
        query_pre_attn_scalar: 12, sliding_window: 3, layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
        attn_logit_softcapping: null, final_logit_softcapping: null, attention_bias: false, tie_word_embeddings: true,
        bos_token_id: 2, eos_token_id: 1, pad_token_id: 0, torch_dtype: 'float32' };
    case 'gpt2':
      return { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', activation_function: 'gelu_new', vocab_size: 100, n_embd: 32,
        n_head: 4, n_layer: 2, n_positions: 64, n_ctx: 64, layer_norm_epsilon: 1e-5, bos_token_id: 0, eos_token_id: 0 };
  }
}

/** name → [shape, kind] where kind picks the random distribution. */
type Spec = [string, number[], 'weight' | 'bias' | 'norm' | 'zeroNorm'];

function llamaSpecs(c: Record<string, number | boolean>, kind: TinyKind): Spec[] {
  const C = c.hidden_size as number, H = c.num_attention_heads as number, KV = (c.num_key_value_heads ?? H) as number;
  const D = (c.head_dim ?? C / H) as number, I = c.intermediate_size as number, V = c.vocab_size as number;
  const specs: Spec[] = [['model.embed_tokens.weight', [V, C], 'weight']];
  // Gemma's RMSNorm multiplies by (1 + w): its weights sit around 0.
  const norm = kind === 'gemma3' ? 'zeroNorm' : 'norm';
  for (let l = 0; l < (c.num_hidden_layers as number); l++) {
    const p = `model.layers.${l}.`;
    specs.push([`${p}input_layernorm.weight`, [C], norm], [`${p}post_attention_layernorm.weight`, [C], norm]);
    if (kind === 'gemma3') specs.push([`${p}pre_feedforward_layernorm.weight`, [C], norm], [`${p}post_feedforward_layernorm.weight`, [C], norm]);
    if (kind === 'qwen3' || kind === 'gemma3') specs.push([`${p}self_attn.q_norm.weight`, [D], norm], [`${p}self_attn.k_norm.weight`, [D], norm]);
    specs.push([`${p}self_attn.q_proj.weight`, [H * D, C], 'weight'], [`${p}self_attn.k_proj.weight`, [KV * D, C], 'weight']);
    specs.push([`${p}self_attn.v_proj.weight`, [KV * D, C], 'weight'], [`${p}self_attn.o_proj.weight`, [C, H * D], 'weight']);
    if (kind === 'qwen2' || c.attention_bias === true) {
      specs.push([`${p}self_attn.q_proj.bias`, [H * D], 'bias'], [`${p}self_attn.k_proj.bias`, [KV * D], 'bias'], [`${p}self_attn.v_proj.bias`, [KV * D], 'bias']);
    }
    if (kind === 'llama' && c.attention_bias === true) specs.push([`${p}self_attn.o_proj.bias`, [C], 'bias']);
    specs.push([`${p}mlp.gate_proj.weight`, [I, C], 'weight'], [`${p}mlp.up_proj.weight`, [I, C], 'weight'], [`${p}mlp.down_proj.weight`, [C, I], 'weight']);
  }
  specs.push(['model.norm.weight', [C], norm]);
  if (c.tie_word_embeddings !== true) specs.push(['lm_head.weight', [V, C], 'weight']);
  return specs;
}

function gpt2Specs(c: Record<string, number>, withPrefix: boolean): Spec[] {
  const C = c.n_embd, V = c.vocab_size, P = c.n_positions;
  const t = withPrefix ? 'transformer.' : '';
  const specs: Spec[] = [[`${t}wte.weight`, [V, C], 'weight'], [`${t}wpe.weight`, [P, C], 'weight']];
  for (let l = 0; l < c.n_layer; l++) {
    const p = `${t}h.${l}.`;
    specs.push([`${p}ln_1.weight`, [C], 'norm'], [`${p}ln_1.bias`, [C], 'bias'], [`${p}ln_2.weight`, [C], 'norm'], [`${p}ln_2.bias`, [C], 'bias']);
    // Conv1D weights are stored [in, out].
    specs.push([`${p}attn.c_attn.weight`, [C, 3 * C], 'weight'], [`${p}attn.c_attn.bias`, [3 * C], 'bias']);
    specs.push([`${p}attn.c_proj.weight`, [C, C], 'weight'], [`${p}attn.c_proj.bias`, [C], 'bias']);
    specs.push([`${p}mlp.c_fc.weight`, [C, 4 * C], 'weight'], [`${p}mlp.c_fc.bias`, [4 * C], 'bias']);
    specs.push([`${p}mlp.c_proj.weight`, [4 * C, C], 'weight'], [`${p}mlp.c_proj.bias`, [C], 'bias']);
  }
  specs.push([`${t}ln_f.weight`, [C], 'norm'], [`${t}ln_f.bias`, [C], 'bias']);
  return specs;
}

function randomTensor(spec: Spec, next: () => number, dtype: SafeDtype): SafeTensorInput {
  const [name, shape, kind] = spec;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = next() * 2 - 1;
    v[i] = kind === 'norm' ? 1 + 0.2 * u : kind === 'zeroNorm' ? 0.2 * u : kind === 'bias' ? 0.1 * u : 0.6 * u;
  }
  const data = dtype === 'F32' ? v : dtype === 'F16' ? f32ToF16(v) : f32ToBf16(v);
  return { name, dtype, shape, data };
}

/** A tiny byte-level BPE tokenizer: `<|endoftext|>` (0, BOS/EOS), `<pad>` (1), printable ASCII and Ġ. */
export function tinyTokenizerFiles(): Record<string, Uint8Array> {
  const specials = ['<|endoftext|>', '<pad>'];
  const chars: string[] = [];
  for (let c = 33; c <= 126; c++) chars.push(String.fromCharCode(c));
  chars.push('\u0120');
  const vocab: Record<string, number> = {};
  [...specials, ...chars].forEach((t, i) => (vocab[t] = i));
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
  const config = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<pad>', model_max_length: 64 };
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x, null, 2));
  return { 'tokenizer.json': enc(tokenizer), 'tokenizer_config.json': enc(config) };
}

/** The files of a tiny checkpoint, by name relative to the model folder. */
export function tinyModelFiles(kind: TinyKind, opts: TinyOptions = {}): Record<string, Uint8Array> {
  const dtype = opts.dtype ?? 'F32';
  const config = { ...tinyConfigJson(kind), ...opts.config, torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype] };
  const specs = kind === 'gpt2'
    ? gpt2Specs(config as unknown as Record<string, number>, !opts.gpt2WithoutPrefix)
    : llamaSpecs(config as unknown as Record<string, number | boolean>, kind);
  const next = rng(opts.seed ?? 1234);
  const tensors = specs.map((s) => randomTensor(s, next, dtype));
  const files: Record<string, Uint8Array> = {
    'config.json': new TextEncoder().encode(JSON.stringify(config, null, 2)),
    ...tinyTokenizerFiles(),
  };
  const shards = opts.shards ?? 1;
  if (shards === 1) {
    files['model.safetensors'] = writeSafetensors(tensors, { format: 'pt' });
    return files;
  }
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.filter((_, i) => Math.floor((i * shards) / tensors.length) === s);
    for (const t of part) weightMap[t.name] = name;
    files[name] = writeSafetensors(part, { format: 'pt' });
  }
  files['model.safetensors.index.json'] = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return files;
}

/** Writes a tiny checkpoint into a folder (created if needed); returns the folder. */
export function writeTinyModel(dir: string, kind: TinyKind, opts: TinyOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(tinyModelFiles(kind, opts))) writeFileSync(join(dir, name), bytes);
  return dir;
}
