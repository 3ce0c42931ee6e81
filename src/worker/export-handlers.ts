import { adapterZip } from '../lora/card.ts';
import { loraScale } from '../lora/config.ts';
import { trainableParams } from '../lora/modules.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, exportPeftAdapter } from '../lora/peft.ts';
import { importPeftAdapter } from '../lora/peft-import.ts';
import { unzipFiles, zipFiles } from '../io/zip.ts';
import type { AdapterInfo, ExportInfo } from './protocol.ts';
import { dropInference } from './compare-handlers.ts';
import { requireAdapter, requireModel, session } from './session.ts';
import { mergedModelFiles } from '../train/merge-files.ts';
import { weightPrecision } from '../model/weights.ts';

/** A file-name-safe form of a model name (`owner/name` or `x.gguf` → `name`). */
export const slug = (name: string) => name.split('/').pop()!.replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');

/** The bytes as an ArrayBuffer of their own, ready to transfer. */
export const buffer = (bytes: Uint8Array): ArrayBuffer => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;

/** The PEFT adapter folder plus its model card, as one zip. */
export function exportAdapter(info: ExportInfo): { zip: ArrayBuffer; fileName: string } {
  const model = requireModel('export an adapter');
  const a = requireAdapter('export it');
  const files = exportPeftAdapter(a.layout, a.params, a.cfg, model.config.arch);
  const zip = adapterZip(files, {
    baseModel: session.modelName,
    adapter: a.cfg,
    trainableParams: trainableParams(a.layout.entries, a.cfg.rank),
    basePrecision: `${weightPrecision(model.weights).summary}${model.baseQuant ? ' (4-bit base, quantized at load; merge into the original weights)' : ''}`,
    data: { file: info.dataFile, trainRows: info.trainRows, validationRows: info.validationRows },
    training: info.training,
    metrics: info.metrics,
    ...(session.lastRun?.evaluation ? { evaluation: session.lastRun.evaluation } : {}),
  });
  return { zip: buffer(zip), fileName: `${slug(session.modelName)}-lora-r${a.cfg.rank}.zip` };
}

/**
 * The base model with the adapter merged into its weights, as one zip: a Hugging Face model keeps
 * its tensor names, dtypes, config and tokenizer files; a GGUF model becomes a Hugging Face folder
 * (safetensors in HF names, config.json and tokenizer.json from the GGUF) — src/train/merge-files.ts.
 */
export function exportMerged(progress: (what: string) => void): { zip: ArrayBuffer; fileName: string } {
  const model = requireModel('export a merged model');
  const a = requireAdapter('merge it');
  if (!session.files) throw new Error(`${model.source}: the model's files are no longer in memory; load the model again, then export.`);
  progress('merging the adapter');
  const out = mergedModelFiles(model, session.files, { layout: a.layout, params: a.params, scale: loraScale(a.cfg) });
  progress('writing the zip');
  return { zip: buffer(zipFiles(out)), fileName: `${slug(session.modelName)}-merged.zip` };
}

/** A PEFT adapter (a zip, or adapter_config.json + adapter_model.safetensors) for the loaded model. */
export function importAdapter(given: Record<string, Uint8Array>, sourceName: string): AdapterInfo {
  const model = requireModel('import an adapter');
  let files = given;
  const zip = Object.keys(given).find((n) => n.toLowerCase().endsWith('.zip'));
  if (zip) files = unzipFiles(given[zip], zip);
  const find = (want: string) => Object.keys(files).find((n) => (n.split('/').pop() ?? n) === want);
  const cfgName = find(ADAPTER_CONFIG_FILE);
  const weightsName = find(ADAPTER_WEIGHTS_FILE);
  if (!cfgName || !weightsName) {
    const missing = [cfgName ? null : ADAPTER_CONFIG_FILE, weightsName ? null : ADAPTER_WEIGHTS_FILE].filter(Boolean).join(' and ');
    throw Object.assign(new Error(`${sourceName} has no ${missing}; pick the .zip tsugiki exported, or both files of a PEFT adapter folder`), { kind: 'format' });
  }
  const imported = importPeftAdapter(files[cfgName], files[weightsName], model.config);
  dropInference();
  session.adapter = { cfg: imported.cfg, layout: imported.layout, params: imported.params, source: 'imported' };
  session.lastRun = null;
  return { adapter: imported.cfg, trainableParams: trainableParams(imported.layout.entries, imported.cfg.rank), source: 'imported' };
}
