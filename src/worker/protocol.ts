import type { Row } from '../data/dataset.ts';
import type { AdapterSummary } from '../gpu/device.ts';
import type { SelfTestResult } from '../gpu/self-test.ts';
import type { DownloadProgress } from '../io/hub.ts';
import type { HubCacheEntry } from '../io/hub-cache.ts';
import type { AdapterConfig } from '../lora/config.ts';
import type { ModelConfig } from '../model/config.ts';
import type { ExportDtype } from '../onnx/hf-config.ts';
import type { LogitComparison } from '../onnx/verify.ts';
import type { GgufFileType } from '../train/gguf-files.ts';
import type { TrainOptions } from '../train/options.ts';
import type { EvalReport } from '../eval/report.ts';

/**
 * The whole conversation between the page and the engine worker. A request is `{kind, id, ...args}`;
 * the worker answers with `result`, `error` or any number of `progress` messages for that id.
 * Bytes travel as ArrayBuffers, transferred (not copied) where the sender no longer needs them.
 */

/** What the page needs to build the same tokenizer the worker uses (a Tokenizer object cannot be posted). */
export type TokenizerSource =
  | { kind: 'gguf'; metadata: Record<string, unknown> }
  | { kind: 'hf'; tokenizerJson: object; tokenizerConfig: object };

/** A loaded base model as the page sees it. */
export interface ModelSummary {
  /** Hub id or file/folder name. */
  name: string;
  format: 'gguf' | 'safetensors';
  config: ModelConfig;
  params: number;
  /** Weight precision as stored (f32, f16, bf16, or the quantized type most bytes are in). */
  dtype: string;
  /** The stored precision for people: `f16`, or `quantized: Q4_K, Q6_K`. */
  precision: string;
  /** When the weights were quantized at load (a 4-bit base): GPU bytes before and after, formats chosen. */
  baseQuant: { bytesBefore: number; bytesAfter: number; types: Record<string, number> } | null;
  /** Bytes the frozen weights take on the GPU (source precision). */
  weightBytes: number;
  /** Bytes of the files read. */
  fileBytes: number;
  /** Module names LoRA can target (q_proj, …). */
  loraTargets: string[];
  tokenizer: TokenizerSource;
}

/** Everything a run needs besides the loaded model; a checkpoint keeps it to resume the same run. */
export interface TrainRequest {
  rows: Row[];
  options: TrainOptions;
  useChatTemplate: boolean;
  /** Save a checkpoint every this many steps (0: never). */
  checkpointEvery: number;
  /** Resume from the stored checkpoint of this run instead of starting anew. */
  resume: boolean;
  /** Start from the imported adapter (options.adapter must be its settings) instead of a fresh one. */
  initFromAdapter: boolean;
}

export type TrainEvent =
  /** The first run on this GPU: the matmul kernel choices are being timed (once; kept in the browser). */
  | { type: 'tuning' }
  | { type: 'start'; totalSteps: number; step: number; trainRows: number; valRows: number; labels: string[] | null }
  | { type: 'step'; step: number; totalSteps: number; loss: number; lr: number; gradNorm: number; tokensPerS: number; etaS: number; gpuBytes: number }
  | { type: 'eval'; step: number; valLoss: number; accuracy: number | null; macroF1: number | null }
  | { type: 'checkpoint'; step: number; bytes: number }
  /** The steps are done; the kept adapter and the base model are being evaluated on the held-out rows. */
  | { type: 'evaluating'; rows: number }
  | { type: 'warning'; message: string }
  /** The run is idle at `step`; its adapter as it stands is held for Compare and Export until it resumes. */
  | { type: 'paused'; step: number }
  | { type: 'resumed' };

/** The kept adapter and the base model on the run's validation rows, by src/eval. */
export interface FinalEvaluation {
  /** The step of the adapter evaluated (the best validation loss, else the last). */
  step: number;
  base: EvalReport;
  tuned: EvalReport;
}

export interface TrainResult {
  status: 'done' | 'stopped' | 'early-stopped' | 'non-finite';
  step: number;
  totalSteps: number;
  finalLoss: number | null;
  valLoss: number | null;
  /** Accuracy of the kept adapter on the validation rows (the final evaluation's, else the last validation's). */
  accuracy: number | null;
  message: string | null;
  evaluation: FinalEvaluation | null;
}

export interface Sampling {
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
}

/** One row compared: what each model writes freely (null when not asked for this row) and, for labels, its likeliest label. */
export interface CompareRowResult {
  base: string | null;
  tuned: string | null;
  basePredicted?: string;
  tunedPredicted?: string;
}

export interface CompareRequest {
  rows: Row[];
  useChatTemplate: boolean;
  sampling: Sampling;
  strength: number;
  /** The label set when outputs are labels: every row is scored by src/eval's rule. */
  labels: string[] | null;
  /** The run's sequence length, so rows are cut exactly as training and validation cut them. */
  seqLen: number;
  /** Free generation for the first this many rows only (it takes a moment per row). */
  writeRows: number;
}

/** What the model card says about the run (the worker knows the adapter and its numbers). */
export interface ExportInfo {
  dataFile?: string;
  trainRows: number;
  validationRows: number;
  training: Record<string, string | number | boolean>;
  metrics: Record<string, number>;
}

export interface AdapterInfo {
  adapter: AdapterConfig;
  trainableParams: number;
  source: 'trained' | 'imported';
}

export type OrtBackend = 'WebGPU' | 'WASM';

/** The export's logits on one ONNX Runtime backend against the engine's, every prompt position. */
export interface OnnxRun extends LogitComparison {
  backend: OrtBackend;
}

/** An ONNX export run in ONNX Runtime against the engine on one prompt. */
export interface OnnxVerification {
  /** WebGPU first when it starts; WASM when WebGPU did not start or did not match. */
  runs: OnnxRun[];
  /** Why the WebGPU execution provider did not run (null when it did). */
  webgpuSkipped: string | null;
  dtype: ExportDtype;
  /** The input text the prompt was built from, and its length in tokens (T). */
  prompt: string;
  promptTokens: number;
  adapterMerged: boolean;
}

type Empty = Record<string, never>;

export interface Calls {
  'gpu-info': { args: Empty; result: { name: string; adapter: AdapterSummary }; progress: never };
  'self-test': { args: Empty; result: SelfTestResult; progress: never };
  /** Model files from disk: one `.gguf`, or the files of a Hugging Face folder by relative name. */
  'load-files': { args: { files: Record<string, ArrayBuffer>; sourceName: string }; result: ModelSummary; progress: never };
  /** Downloads (or reads from the browser cache) a curated Hub model, then loads it; `token` (gated models) goes only to the Hub. */
  'download-model': { args: { repo: string; files: string[]; token?: string }; result: ModelSummary; progress: DownloadProgress };
  /** Quantizes the loaded full-precision model's weights (a 4-bit base); the adapter stays. */
  'quantize-base': { args: Empty; result: ModelSummary; progress: never };
  'cache-list': { args: Empty; result: HubCacheEntry[]; progress: never };
  'cache-clear': { args: Empty; result: null; progress: never };
  /** A training run; events stream as progress until it ends. */
  train: { args: { run: TrainRequest }; result: TrainResult; progress: TrainEvent };
  'train-control': { args: { action: 'pause' | 'resume' | 'stop' }; result: null; progress: never };
  /** Greedy/sampled answers of the base model (strength 0) and the tuned one (strength `strength`). */
  compare: { args: CompareRequest; result: CompareRowResult[]; progress: number };
  'export-adapter': { args: { info: ExportInfo }; result: { zip: ArrayBuffer; fileName: string }; progress: never };
  'export-merged': { args: Empty; result: { zip: ArrayBuffer; fileName: string }; progress: string };
  /** The adapter as a llama.cpp GGUF LoRA file. */
  'export-gguf-adapter': { args: { dtype: 'F32' | 'F16' }; result: { bytes: ArrayBuffer; fileName: string }; progress: never };
  /** The model (adapter merged, if any) as one GGUF file with an ollama Modelfile, zipped. */
  'export-gguf-merged': { args: { fileType: GgufFileType; useChatTemplate: boolean }; result: { zip: ArrayBuffer; fileName: string; createLine: string; ggufName: string; modelfile: string }; progress: string };
  /** "Continue on a GPU server": train.py (TRL + PEFT), configs and the rows rendered in the run's format, zipped. */
  'export-gpu-server': { args: { rows: Row[]; options: TrainOptions; useChatTemplate: boolean }; result: { zip: ArrayBuffer; fileName: string }; progress: string };
  /** The model (adapter merged, if any) as the folder transformers.js loads, zipped; kept for verify-onnx. */
  'export-onnx': { args: { dtype: ExportDtype }; result: { zip: ArrayBuffer; fileName: string; files: string[] }; progress: string };
  /** Runs the last ONNX export in ONNX Runtime and the engine on one prompt (`row`'s, or a fixed one) and compares the logits. */
  'verify-onnx': { args: { row: Row | null; useChatTemplate: boolean }; result: OnnxVerification; progress: string };
  /** A PEFT adapter (zip, or its two files) for the loaded model, to compare or to continue training. */
  'import-adapter': { args: { files: Record<string, ArrayBuffer>; sourceName: string }; result: AdapterInfo; progress: never };
}

export type CallKind = keyof Calls;

export type Request = { [K in CallKind]: { kind: K; id: number } & Calls[K]['args'] }[CallKind];

export type Response =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; message: string; errorKind: string }
  | { kind: 'progress'; id: number; progress: unknown };
