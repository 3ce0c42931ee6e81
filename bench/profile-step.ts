/**
 * Where the GPU time of one LoRA training step goes, per kernel (timestamp queries):
 *   npx tsx bench/profile-step.ts [MODEL] [B] [T]
 */
import { readFileSync } from 'node:fs';
import { createNodeGpu } from '../src/gpu/node.ts';
import { Profiler } from '../src/gpu/profiler.ts';
import { parseDataset } from '../src/data/parse.ts';
import { encodeExample, makeBatches } from '../src/data/prompt.ts';
import { adapterModules } from '../src/lora/modules.ts';
import { planAdapterLayout } from '../src/lora/layout.ts';
import { initAdapter } from '../src/lora/init.ts';
import { loadModelFromPath } from '../src/model/load-node.ts';
import { Network } from '../src/model/network.ts';

const [modelPath = new URL('../../shared/data/models/stories260K.gguf', import.meta.url).pathname, b = '16', t = '96'] = process.argv.slice(2);
const B = Number(b);
const T = Number(t);
const model = loadModelFromPath(modelPath);
const data = parseDataset(readFileSync(new URL('../../shared/data/datasets/sms-spam/SMSSpamCollection.tsv', import.meta.url)), 'SMSSpamCollection.tsv');
const examples = data.rows.slice(0, B).map((r) => encodeExample(model.tokenizer, r, { seqLen: T, useChatTemplate: false }));
const [batch] = makeBatches(examples, B, { shuffle: false, seed: 0, padId: 0 });
const layout = planAdapterLayout(adapterModules(model.config, { targets: 'all-linear', layers: null }), 8);
const gpu = await createNodeGpu();
const net = await Network.create(gpu, model, { maxBatch: B, maxSeq: T, training: true, adapter: { layout, scale: 2, dropout: 0.05 } });
net.setAdapterParams(initAdapter(layout, { init: 'default', seed: 1 }));
const step = async () => {
  const rec = gpu.recorder('step');
  net.recordZeroLoss(rec);
  net.recordZeroGrads(rec);
  net.recordStep(rec, batch, { backward: true, lossScale: 1 / batch.tokenCount, dropoutSeed: 1 });
  rec.submit();
  await gpu.sync('step');
};
await step();
gpu.profiler = new Profiler(gpu.device);
let t0 = performance.now();
await step();
const profiled = performance.now() - t0;
const rows = await gpu.profiler.report();
gpu.profiler = null;
t0 = performance.now();
await step();
const plain = performance.now() - t0;
const total = rows.reduce((s, r) => s + r.ms, 0);
console.log(`B=${B} T=${T} (batch T=${batch.T}): step ${plain.toFixed(0)} ms (profiled run ${profiled.toFixed(0)} ms, GPU sum ${total.toFixed(0)} ms)`);
for (const r of rows) {
  console.log(`${r.ms.toFixed(1).padStart(9)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%  ${String(r.count).padStart(4)}×  ${String(Math.round(r.workgroups / r.count)).padStart(6)} wg  ${r.kernel}`);
}
gpu.destroy();
