import { writeAnswer } from '../eval/answers.ts';
import { compareLabelPredictions } from '../eval/held-out.ts';
import { loraScale } from '../lora/config.ts';
import type { LoadedModel } from '../model/load-source.ts';
import { Network } from '../model/network.ts';
import { padIdOf } from '../train/data.ts';
import type { CompareRequest, CompareRowResult } from './protocol.ts';
import { getGpu, requireAdapter, requireModel, type HeldAdapter } from './session.ts';

/** Rows scored per forward pass when comparing labels. */
const SCORE_BATCH = 4;

/** The inference network with the held adapter, kept between compare calls (the slider re-asks often). */
let inference: { net: Network; adapter: HeldAdapter; maxSeq: number } | null = null;

/** Frees the inference network (a new model, a new adapter or a training run needs the memory). */
export function dropInference(): void {
  inference?.net.destroy();
  inference = null;
}

async function inferenceNet(model: LoadedModel, adapter: HeldAdapter, maxSeq: number): Promise<Network> {
  if (inference && inference.adapter === adapter && inference.maxSeq >= maxSeq) return inference.net;
  dropInference();
  const net = await Network.create(await getGpu(), model, {
    maxBatch: SCORE_BATCH,
    maxSeq,
    training: false,
    adapter: { layout: adapter.layout, scale: loraScale(adapter.cfg), dropout: 0 },
  });
  net.setAdapterParams(adapter.params);
  inference = { net, adapter, maxSeq };
  return net;
}

/**
 * The base model (adapter strength 0) and the tuned one (strength `strength`) on each row: for
 * labels, the likeliest label of each (src/eval's rule, rows cut at the run's sequence length);
 * for the first `writeRows` rows, what each writes freely, with the same seed and sampling.
 */
export async function compare(req: CompareRequest, progress: (done: number) => void): Promise<CompareRowResult[]> {
  const model = requireModel('compare outputs');
  const adapter = requireAdapter('compare outputs');
  const maxSeq = Math.min(model.config.maxPositions, Math.max(512, req.seqLen));
  const net = await inferenceNet(model, adapter, maxSeq);
  const results: CompareRowResult[] = req.rows.map(() => ({ base: null, tuned: null }));
  try {
    if (req.labels) {
      const o = { seqLen: Math.min(req.seqLen, maxSeq), useChatTemplate: req.useChatTemplate, batchSize: SCORE_BATCH, padId: padIdOf(model.tokenizer) };
      const c = await compareLabelPredictions(net, model.tokenizer, req.rows, req.labels, o, req.strength);
      results.forEach((r, i) => {
        r.basePredicted = c.base[i];
        r.tunedPredicted = c.tuned[i];
      });
    }
    const answer = (i: number, s: number) => {
      net.adapterStrength = s;
      return writeAnswer(net, model, req.rows[i], req.useChatTemplate, req.sampling, maxSeq);
    };
    const n = Math.min(req.rows.length, req.writeRows);
    for (let i = 0; i < n; i++) {
      results[i].base = await answer(i, 0);
      results[i].tuned = await answer(i, req.strength);
      progress(i + 1);
    }
  } finally {
    net.adapterStrength = 1;
  }
  return results;
}
