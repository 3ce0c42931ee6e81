/**
 * ONNX export in the studio: the held model with the held adapter merged, as the folder
 * transformers.js loads (zipped), then a check of that export in onnxruntime-web against the
 * engine's own logits on one prompt. ONNX Runtime runs here in the engine worker, on its WebGPU
 * execution provider when it starts, and on WASM when WebGPU cannot start or does not match; its
 * .wasm file comes from this site, never a CDN.
 */
import type * as Ort from 'onnxruntime-web';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import type { Row } from '../data/dataset.ts';
import { encodePrompt, formatExample } from '../data/prompt.ts';
import { zipFiles } from '../io/zip.ts';
import { loraScale } from '../lora/config.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { Network } from '../model/network.ts';
import { exportOnnx, type ExportDtype } from '../onnx/export.ts';
import { DTYPE_FILES } from '../onnx/hf-config.ts';
import { compareLogits, FALLBACK_PROMPT, promptFeeds, VERIFY_TOLERANCE, type FeedSpec } from '../onnx/verify.ts';
import { dropInference } from './compare-handlers.ts';
import type { OnnxRun, OnnxVerification, OrtBackend } from './protocol.ts';
import { getGpu, requireModel, session, type HeldAdapter } from './session.ts';
import { buffer, slug } from './export-handlers.ts';

/** Prompt tokens checked at most (BOS and the end of a longer prompt are kept). */
const MAX_CHECK_TOKENS = 128;

/** The decoder of the last export, kept until it is checked (or another export replaces it). */
let held: { onnx: Uint8Array | null; dtype: ExportDtype; model: LoadedModel; adapter: HeldAdapter | null } | null = null;

/** The export folder of the held model (adapter merged when there is one), as one zip. */
export function exportOnnxZip(dtype: ExportDtype, progress: (what: string) => void): { zip: ArrayBuffer; fileName: string; files: string[] } {
  const model = requireModel('export to ONNX');
  const adapter = session.adapter;
  if (!session.files) throw new Error('export: the files of the loaded model are gone; load the model again in step 1');
  held = null;
  progress(adapter ? 'Merging the adapter and writing the ONNX graph…' : 'Writing the ONNX graph…');
  const folder = exportOnnx(model, adapter, { dtype, files: session.files });
  const path = DTYPE_FILES[dtype].file;
  // The check needs the graph with its weights inline; models over 2 GiB split them into side files.
  const inline = !Object.keys(folder).some((name) => name.startsWith(`${path}_data`));
  held = { onnx: inline ? folder[path] : null, dtype, model, adapter };
  progress('Packing the zip…');
  const zip = zipFiles(folder);
  const suffix = dtype === 'f16' ? '-onnx-fp16' : '-onnx';
  return { zip: buffer(zip), fileName: `${slug(session.modelName)}${suffix}.zip`, files: Object.keys(folder) };
}

/** Token ids of the check prompt: the row's prompt as training renders it, or the fallback prompt. */
function checkPromptIds(model: LoadedModel, row: Row | null, useChatTemplate: boolean): { text: string; ids: number[] } {
  const t = model.tokenizer;
  const text = row ? row.input : FALLBACK_PROMPT;
  let ids = row ? encodePrompt(t, formatExample(t, { ...row, output: '' }, useChatTemplate), useChatTemplate) : t.encode(FALLBACK_PROMPT, { addBos: t.addsBos });
  const room = Math.min(MAX_CHECK_TOKENS, model.config.maxPositions);
  if (ids.length > room) {
    const head = t.bosId !== null && ids[0] === t.bosId ? [t.bosId] : [];
    ids = [...head, ...ids.slice(ids.length - (room - head.length))];
  }
  if (ids.length === 0) throw new Error(`The check prompt "${text}" has no tokens; pick a data row with some input text`);
  return { text, ids };
}

/** The engine's logits [T, V] for one prompt, the adapter (if any) as LoRA branches at strength 1. */
async function engineLogits(model: LoadedModel, adapter: HeldAdapter | null, ids: number[]): Promise<Float32Array> {
  dropInference(); // the compare step's network is rebuilt when next needed
  const T = ids.length;
  const net = await Network.create(await getGpu(), model, {
    maxBatch: 1,
    maxSeq: T,
    training: false,
    adapter: adapter ? { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 } : null,
  });
  try {
    if (adapter) net.setAdapterParams(adapter.params);
    net.adapterStrength = 1;
    const batch = { B: 1, T, inputIds: Int32Array.from(ids), targets: new Int32Array(T).fill(-1), attentionMask: new Uint8Array(T).fill(1), tokenCount: 0, exampleIndices: [0] };
    return await net.logits(batch);
  } finally {
    net.destroy();
  }
}

let ortPromise: Promise<typeof Ort> | null = null;

/** onnxruntime-web, loaded on first use, its WASM binary from this site's own assets. */
function loadOrt(): Promise<typeof Ort> {
  ortPromise ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, self.location.href).href };
    // Threads need SharedArrayBuffer, which only a cross-origin isolated page has.
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    return ort;
  }).catch((e: unknown) => {
    ortPromise = null;
    throw e;
  });
  return ortPromise;
}

/** The exported decoder's logits [T, V] for the prompt on one backend of onnxruntime-web. */
async function onnxLogits(ort: typeof Ort, onnx: Uint8Array, feeds: FeedSpec[], backend: OrtBackend): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(onnx, { executionProviders: [backend === 'WebGPU' ? 'webgpu' : 'wasm'] });
  try {
    const inputs: Record<string, Ort.Tensor> = {};
    for (const f of feeds) inputs[f.name] = new ort.Tensor(f.type, f.data, f.dims);
    const out = await s.run(inputs, ['logits']);
    return out.logits.data as Float32Array;
  } finally {
    await s.release();
  }
}

const runtimeError = (what: string, e: unknown) => Object.assign(new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`), { kind: 'onnx-runtime' });

/**
 * Runs the last export in ONNX Runtime and the engine on the same prompt and compares the logits
 * of every prompt position. The prompt is `row`'s (as training renders it) or a fixed one.
 * WebGPU runs first; WASM runs when WebGPU does not start or does not match: WASM's float32 math
 * is exact IEEE, while a GPU's sin/cos/exp may be far less precise (WGSL promises 2^-11 for sin
 * and cos), so WASM tells a wrong file from an imprecise backend.
 */
export async function verifyOnnx(row: Row | null, useChatTemplate: boolean, progress: (what: string) => void): Promise<OnnxVerification> {
  const model = requireModel('check an ONNX export');
  const h = held;
  if (!h || h.model !== model) throw Object.assign(new Error('There is no ONNX export of the loaded model to check; export it first'), { kind: 'no-export' });
  held = null;
  if (!h.onnx) throw Object.assign(new Error('The export keeps its weights in external data files (over 2 GiB); the page checks only exports that fit in one ONNX file'), { kind: 'unsupported' });
  const onnx = h.onnx;
  const { text, ids } = checkPromptIds(model, row, useChatTemplate);
  progress('Running the prompt through the engine…');
  const V = model.config.vocabSize;
  const engine = (await engineLogits(model, h.adapter, ids)).subarray(0, ids.length * V);
  const ort = await loadOrt().catch((e: unknown) => {
    throw runtimeError('ONNX Runtime did not load (reload the page and try again)', e);
  });
  const feeds = promptFeeds(model.config, ids);
  const runs: OnnxRun[] = [];
  const check = async (backend: OrtBackend) => {
    progress(`Running the export in ONNX Runtime (${backend})…`);
    runs.push({ ...compareLogits(await onnxLogits(ort, onnx, feeds, backend), engine, V, VERIFY_TOLERANCE[h.dtype]), backend });
  };
  let webgpuSkipped: string | null = 'this browser has no WebGPU';
  if ('gpu' in navigator && navigator.gpu) {
    try {
      await check('WebGPU');
      webgpuSkipped = null;
    } catch (e) {
      webgpuSkipped = e instanceof Error ? e.message : String(e);
    }
  }
  if (!runs.some((r) => r.ok)) {
    try {
      await check('WASM');
    } catch (e) {
      throw runtimeError('ONNX Runtime could not run the export', e);
    }
  }
  return { runs, webgpuSkipped, dtype: h.dtype, prompt: text, promptTokens: ids.length, adapterMerged: h.adapter !== null };
}
