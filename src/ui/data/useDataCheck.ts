import { useMemo } from 'react';
import { dataReport, type DataReport } from '../../data/report.ts';
import { encodeExample } from '../../data/prompt.ts';
import type { Row } from '../../data/dataset.ts';
import { currentSplit } from '../state/dataSlice.ts';
import { useStore } from '../store.ts';

export interface DataCheck {
  report: DataReport;
  split: { train: number[]; val: number[] };
  /** Sequence length the token check used, when a tokenizer is loaded. */
  seqLen: number | null;
}

/**
 * The data report for the loaded rows under the current split. Token lengths are counted only
 * when the model step has provided a tokenizer; they are counted once per dataset and tokenizer.
 */
export function useDataCheck(): DataCheck | null {
  const dataset = useStore((s) => s.dataset);
  const valPercent = useStore((s) => s.valPercent);
  const seed = useStore((s) => s.splitSeed);
  const tokenizer = useStore((s) => s.tokenizer);
  const useChatTemplate = useStore((s) => s.useChatTemplate);
  const seqLen = useStore((s) => s.adapterSettings.training.seqLen);
  const rows = dataset?.parsed.rows;

  const tokenCounts = useMemo(() => {
    if (!rows || !tokenizer) return null;
    const counts = new Map<Row, number>();
    for (const r of rows) counts.set(r, encodeExample(tokenizer, r, { seqLen: Number.MAX_SAFE_INTEGER, useChatTemplate }).inputIds.length);
    return counts;
  }, [rows, tokenizer, useChatTemplate]);

  const split = useMemo(() => (dataset ? currentSplit({ dataset, valPercent, splitSeed: seed }) : null), [dataset, valPercent, seed]);

  return useMemo(() => {
    if (!rows || !split) return null;
    const count = tokenCounts ? (r: Row) => tokenCounts.get(r) ?? 0 : undefined;
    return { report: dataReport(rows, count, { split, seqLen }), split, seqLen: tokenCounts ? seqLen : null };
  }, [rows, split, tokenCounts, seqLen]);
}
