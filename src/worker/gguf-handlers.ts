/**
 * The studio's GGUF and GPU-server exports, in the engine worker: the same builders as the CLI
 * (src/train/gguf-export.ts, gpu-server.ts), so the bytes equal `tsugiki export-gguf` and
 * `tsugiki export-gpu-server` on the same model and adapter.
 */
import type { Row } from '../data/dataset.ts';
import { zipFiles } from '../io/zip.ts';
import { adapterGgufFile, mergedGgufFolder } from '../train/gguf-export.ts';
import type { GgufFileType } from '../train/gguf-files.ts';
import { gpuServerFiles } from '../train/gpu-server.ts';
import type { TrainOptions } from '../train/options.ts';
import { buffer, slug } from './export-handlers.ts';
import { requireAdapter, requireModel, session } from './session.ts';

/** The adapter as a llama.cpp GGUF LoRA file (not zipped: one file). */
export function exportGgufAdapter(dtype: 'F32' | 'F16'): { bytes: ArrayBuffer; fileName: string } {
  const model = requireModel('export a GGUF adapter');
  const a = requireAdapter('export it as GGUF');
  const { bytes, fileName } = adapterGgufFile(model, a, dtype, session.modelName);
  return { bytes: buffer(bytes), fileName };
}

/** The merged model as one GGUF file plus its ollama Modelfile, zipped. */
export function exportGgufMerged(fileType: GgufFileType, useChatTemplate: boolean, progress: (what: string) => void): { zip: ArrayBuffer; fileName: string; createLine: string; ggufName: string; modelfile: string } {
  const model = requireModel('export a GGUF model');
  if (!session.files) throw new Error(`${model.source}: the model's files are no longer in memory; load the model again, then export.`);
  progress(session.adapter ? `Merging the adapter and writing ${fileType} GGUF…` : `Writing ${fileType} GGUF…`);
  const folder = mergedGgufFolder(model, session.files, session.adapter, fileType, { modelName: session.modelName, useChatTemplate });
  progress('Writing the zip…');
  return { zip: buffer(zipFiles(folder.files)), fileName: `${folder.ggufName.replace(/\.gguf$/, '')}.zip`, createLine: folder.createLine, ggufName: folder.ggufName, modelfile: new TextDecoder().decode(folder.files.Modelfile) };
}

/** The settings of the held adapter's run: the last run's when it was trained here, else the page's with the imported adapter's own. */
function runOptions(given: TrainOptions): TrainOptions {
  const a = session.adapter;
  if (session.lastRun && a?.source === 'trained') return session.lastRun.options;
  return a ? { ...given, adapter: a.cfg } : given;
}

/** "Continue on a GPU server": train.py + configs + the rendered rows (+ the adapter, + the base model when not on the Hub), zipped. */
export function exportGpuServer(rows: Row[], options: TrainOptions, useChatTemplate: boolean, progress: (what: string) => void): { zip: ArrayBuffer; fileName: string } {
  const model = requireModel('export for a GPU server');
  if (!session.files) throw new Error(`${model.source}: the model's files are no longer in memory; load the model again, then export.`);
  if (rows.length === 0) throw new Error('There are no rows to train on: upload data in step 2 first.');
  progress('Writing train.py and the data…');
  const a = session.adapter;
  const files = gpuServerFiles({
    model, files: session.files, hubId: session.hubRepo, rows, options: runOptions(options), useChatTemplate,
    adapter: a ? { layout: a.layout, params: a.params, cfg: a.cfg } : null,
  });
  const prefixed: Record<string, Uint8Array> = {};
  const dir = `${slug(session.modelName)}-gpu-server`;
  for (const [name, bytes] of Object.entries(files)) prefixed[`${dir}/${name}`] = bytes;
  return { zip: buffer(zipFiles(prefixed)), fileName: `${dir}.zip` };
}
