/**
 * SentencePiece BPE ("llama" vocabularies in GGUF), the algorithm of llama.cpp's
 * `llm_tokenizer_spm` and of SentencePiece's own BPE model:
 *
 * 1. spaces become ▁ (U+2581) and one ▁ is prepended (add_dummy_prefix);
 * 2. the text is split into UTF-8 characters, held in a doubly linked list;
 * 3. every adjacent pair whose concatenation is a piece of the vocabulary goes into a max-heap
 *    keyed by that piece's score (ties: the leftmost pair first); the best pair is merged, its
 *    stale heap entries are skipped lazily, and the new neighbours are pushed — O(n log n);
 * 4. a final symbol is always a piece (merges only make pieces) or a single character; a
 *    character that is not a piece becomes byte tokens `<0xNN>`, one per UTF-8 byte (byte
 *    fallback), or unk when the vocabulary has no byte pieces.
 *
 * Only normal and user-defined pieces match text, as in SentencePiece: control (`<s>`), byte and
 * unused pieces are never produced by merging.
 */

export const SPACE_MARK = '\u2581';

/** GGUF `tokenizer.ggml.token_type` values. */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface SpmVocab {
  pieces: string[];
  scores: number[];
  types: number[];
}

interface Bigram {
  left: number;
  right: number;
  score: number;
  /** Length (in UTF-16 units) of the merged text; a mismatch marks a stale entry. */
  size: number;
}

/** Max-heap on (score, then smaller `left`). */
class BigramHeap {
  private items: Bigram[] = [];
  get size(): number {
    return this.items.length;
  }
  private better(a: Bigram, b: Bigram): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }
  push(b: Bigram): void {
    const h = this.items;
    h.push(b);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Bigram {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.better(h[l], h[m])) m = l;
        if (r < h.length && this.better(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

export class SpmModel {
  readonly vocab: SpmVocab;
  private pieceToId = new Map<string, number>();
  private byteIds: Int32Array;
  readonly unkId: number | null;

  constructor(vocab: SpmVocab, unkId: number | null) {
    this.vocab = vocab;
    this.unkId = unkId;
    this.byteIds = new Int32Array(256).fill(-1);
    vocab.pieces.forEach((piece, id) => {
      const type = vocab.types[id] ?? TokenType.normal;
      if (type === TokenType.byte) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (m) this.byteIds[parseInt(m[1], 16)] = id;
      } else if (type === TokenType.normal || type === TokenType.userDefined || type === 0) {
        if (!this.pieceToId.has(piece)) this.pieceToId.set(piece, id);
      }
    });
  }

  /** The id of a text piece that merging may produce, or undefined. */
  pieceId(piece: string): number | undefined {
    return this.pieceToId.get(piece);
  }

  /** Byte tokens for `text`, one per UTF-8 byte; unk where the vocabulary has no byte piece. */
  private bytesOf(text: string, out: number[]): void {
    for (const byte of new TextEncoder().encode(text)) {
      const id = this.byteIds[byte];
      if (id >= 0) out.push(id);
      else if (this.unkId !== null) out.push(this.unkId);
    }
  }

  /**
   * Tokenizes text that is already escaped (spaces → ▁, dummy prefix added).
   * Appends the ids to `out`.
   */
  encodeEscaped(text: string, out: number[]): void {
    const chars = Array.from(text);
    const n = chars.length;
    if (n === 0) return;
    const sym = chars.slice();
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const heap = new BigramHeap();
    const tryAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const text2 = sym[left] + sym[right];
      const id = this.pieceToId.get(text2);
      if (id === undefined) return;
      heap.push({ left, right, score: this.vocab.scores[id] ?? 0, size: text2.length });
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);
    while (heap.size > 0) {
      const b = heap.pop();
      const l = sym[b.left];
      const r = sym[b.right];
      // skip entries made stale by an earlier merge of either side
      if (l.length === 0 || r.length === 0 || l.length + r.length !== b.size || next[b.left] !== b.right) continue;
      sym[b.left] = l + r;
      sym[b.right] = '';
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      tryAdd(prev[b.left], b.left);
      tryAdd(b.left, next[b.left]);
    }
    for (let i = 0; i !== -1; i = next[i]) {
      const id = this.pieceToId.get(sym[i]);
      if (id !== undefined) out.push(id);
      else this.bytesOf(sym[i], out);
    }
  }
}

/** Escapes plain text the way SentencePiece does before BPE. */
export function spmEscape(text: string, addDummyPrefix: boolean): string {
  const escaped = text.replaceAll(' ', SPACE_MARK);
  return addDummyPrefix ? SPACE_MARK + escaped : escaped;
}
