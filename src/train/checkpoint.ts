/**
 * A resumable training checkpoint as one safetensors file (so the studio can keep it in OPFS or
 * IndexedDB and the CLI in a folder):
 *
 *   tensors   params [P]  the flat LoRA buffer (AdapterLayout order)
 *             adam.m [P], adam.v [P]  AdamW moments (absent for SGD)
 *             best [P]    the adapter with the lowest validation loss so far (absent before one)
 *   metadata  format = "tsugiki-train-checkpoint", version = "1",
 *             options = the TrainOptions as JSON, state = the TrainState as JSON,
 *             model = the model's shape fingerprint, data = a hash of the rows
 *
 * The data order needs no stored RNG state: each epoch's order comes from (seed, epoch), so the
 * cursor (epoch, micro-batch) places the stream exactly; dropout masks come from (seed, step).
 */
import { FormatError } from '../io/errors.ts';
import { parseSafetensors, tensorToF32, writeSafetensors, type SafeTensorInput } from '../io/safetensors.ts';
import type { Row } from '../data/dataset.ts';
import type { ModelConfig } from '../model/config.ts';
import type { DataCursor } from './data.ts';
import type { TrainOptions } from './options.ts';

export const CHECKPOINT_FORMAT = 'tsugiki-train-checkpoint';
export const CHECKPOINT_VERSION = '1';
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export interface TrainState {
  /** Optimizer steps done. */
  step: number;
  totalSteps: number;
  cursor: DataCursor;
  bestValLoss: number | null;
  bestStep: number | null;
  /** Validations since the best one (for patience). */
  evalsSinceBest: number;
  /** Training seconds before this session. */
  elapsedS: number;
  /** Counted (answer) tokens trained on so far. */
  tokens: number;
  /** Real (non-padding) tokens processed so far (absent in checkpoints of older versions). */
  realTokens?: number;
}

export interface Checkpoint {
  options: TrainOptions;
  state: TrainState;
  params: Float32Array;
  /** AdamW first and second moments; null for SGD. */
  adam: { m: Float32Array; v: Float32Array } | null;
  best: Float32Array | null;
  /** modelFingerprint() of the base model. */
  model: string;
  /** dataFingerprint() of the rows. */
  data: string;
}

/** The model's shape: a checkpoint only resumes onto a model with the same one. */
export function modelFingerprint(c: ModelConfig): string {
  return `${c.arch}:V${c.vocabSize}:C${c.hidden}:L${c.layers}:H${c.heads}:KV${c.kvHeads}:D${c.headDim}:I${c.intermediate}`;
}

/** FNV-1a over every row's input and output: a checkpoint only resumes on the same data. */
export function dataFingerprint(rows: readonly Row[]): string {
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x1f, 0x01000193);
  };
  for (const r of rows) {
    mix(r.messages ? JSON.stringify(r.messages) : r.input);
    mix(r.output);
  }
  return `${rows.length}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

const vec = (name: string, data: Float32Array): SafeTensorInput => ({ name, dtype: 'F32', shape: [data.length], data });

export function serializeCheckpoint(c: Checkpoint): Uint8Array {
  const P = c.params.length;
  for (const [name, a] of [['adam.m', c.adam?.m], ['adam.v', c.adam?.v], ['best', c.best]] as const) {
    if (a && a.length !== P) throw new Error(`serializeCheckpoint: ${name} has ${a.length} values but params has ${P}`);
  }
  const tensors = [vec('params', c.params)];
  if (c.adam) tensors.push(vec('adam.m', c.adam.m), vec('adam.v', c.adam.v));
  if (c.best) tensors.push(vec('best', c.best));
  return writeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    options: JSON.stringify(c.options),
    state: JSON.stringify(c.state),
    model: c.model,
    data: c.data,
  });
}

function json<T>(text: string | undefined, key: string, source: string): T {
  if (text === undefined) throw new FormatError(source, `has no "${key}" in its metadata; it is not a complete tsugiki checkpoint`);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new FormatError(source, `metadata "${key}" is not valid JSON (${(e as Error).message}); the checkpoint is damaged`);
  }
}

export function parseCheckpoint(bytes: Uint8Array, source = CHECKPOINT_FILE): Checkpoint {
  const file = parseSafetensors(bytes, source);
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new FormatError(source, `is not a tsugiki training checkpoint (format ${JSON.stringify(meta.format ?? null)}); to start from a PEFT adapter use --init-adapter`);
  }
  if (meta.version !== CHECKPOINT_VERSION) throw new FormatError(source, `is checkpoint version ${meta.version}; this tsugiki reads version ${CHECKPOINT_VERSION}`);
  const has = (n: string) => file.tensors.some((t) => t.name === n);
  const read = (n: string) => tensorToF32(file, bytes, n);
  const params = read('params');
  const adam = has('adam.m') && has('adam.v') ? { m: read('adam.m'), v: read('adam.v') } : null;
  const best = has('best') ? read('best') : null;
  for (const [name, a] of [['adam.m', adam?.m], ['adam.v', adam?.v], ['best', best]] as const) {
    if (a && a.length !== params.length) throw new FormatError(source, `tensor '${name}' has ${a.length} values but 'params' has ${params.length}; the checkpoint is damaged`);
  }
  return {
    options: json<TrainOptions>(meta.options, 'options', source),
    state: json<TrainState>(meta.state, 'state', source),
    params,
    adam,
    best,
    model: meta.model ?? '',
    data: meta.data ?? '',
  };
}

/** Throws when a checkpoint does not belong to this model and data. */
export function checkResumable(c: Checkpoint, model: ModelConfig, rows: readonly Row[], source = CHECKPOINT_FILE): void {
  const m = modelFingerprint(model);
  if (c.model !== m) throw new FormatError(source, `was written for a different base model (${c.model}, this one is ${m}); resume with the model it was trained on`);
  const d = dataFingerprint(rows);
  if (c.data !== d) throw new FormatError(source, `was written for different data (${c.data}, these rows are ${d}); resume with the same dataset file and columns`);
}
