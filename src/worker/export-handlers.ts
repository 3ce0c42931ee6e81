import { parseSafetensors, tensorBytes, writeSafetensors, type SafeTensorInput } from '../io/safetensors.ts';
import { adapterZip } from '../lora/card.ts';
import { loraScale } from '../lora/config.ts';
import { mergedCheckpoint } from '../lora/merge.ts';
import { trainableParams } from '../lora/modules.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, exportPeftAdapter } from '../lora/peft.ts';
import { importPeftAdapter } from '../lora/peft-import.ts';
import { unzipFiles, zipFiles } from '../io/zip.ts';
import type { AdapterInfo, ExportInfo } from './protocol.ts';
import { dropInference } from './compare-handlers.ts';
import { requireAdapter, requireModel, session } from './session.ts';

/** Files of a Hugging Face model folder copied unchanged next to merged weights. */
const COPIED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'];

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
    data: { file: info.dataFile, trainRows: info.trainRows, validationRows: info.validationRows },
    training: info.training,
    metrics: info.metrics,
  });
  return { zip: buffer(zip), fileName: `${slug(session.modelName)}-lora-r${a.cfg.rank}.zip` };
}

/**
 * The base model with the adapter merged into its weights (same names, shapes and dtypes), with
 * its config and tokenizer files, as one zip. Needs a model loaded from Hugging Face files.
 */
export function exportMerged(progress: (what: string) => void): { zip: ArrayBuffer; fileName: string } {
  const model = requireModel('export a merged model');
  const a = requireAdapter('merge it');
  const files = session.files;
  if (model.format !== 'safetensors' || !files) {
    throw Object.assign(new Error(`${model.source} is a GGUF file; a merged model is written from a Hugging Face model (config.json + safetensors). Export the adapter instead, or load the model from the Hub list or its folder.`), { kind: 'unsupported' });
  }
  progress('reading the weights');
  const tensors: SafeTensorInput[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    if (!name.endsWith('.safetensors')) continue;
    const file = parseSafetensors(bytes, name);
    for (const t of file.tensors) {
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new Error(`${name}: tensor '${t.name}' is ${t.dtype}; only F32, F16 and BF16 checkpoints can be merged`);
      const raw = tensorBytes(file, bytes, t.name).slice();
      tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.dtype === 'F32' ? new Float32Array(raw.buffer) : new Uint16Array(raw.buffer) });
    }
  }
  progress('merging the adapter');
  const merged = mergedCheckpoint(tensors, { layout: a.layout, params: a.params, scale: loraScale(a.cfg) });
  progress('writing the zip');
  const out: Record<string, Uint8Array> = { 'model.safetensors': writeSafetensors(merged, { format: 'pt' }) };
  for (const name of COPIED) if (files[name]) out[name] = files[name];
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
