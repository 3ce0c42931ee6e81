/**
 * A little-endian cursor over a byte array for binary format parsers. Every read is bounds-checked
 * and every length read from the file is checked against the bytes that remain before anything is
 * allocated, so damaged files fail with a FormatError instead of a RangeError or a huge allocation.
 */
import { FormatError } from './errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

export class ByteReader {
  readonly bytes: Uint8Array;
  readonly source: string;
  pos = 0;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, source: string) {
    this.bytes = bytes;
    this.source = source;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string): never {
    throw new FormatError(this.source, message);
  }

  /** Ensures `n` more bytes exist; `what` names the field for the error message. */
  need(n: number, what: string): void {
    if (n > this.remaining) {
      this.fail(`${what} at byte ${this.pos} needs ${n} bytes but the file ends ${this.remaining} bytes later; the file is truncated or damaged (download it again)`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  i8(what: string): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  i16(what: string): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f32(what: string): number {
    this.need(4, what);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  u64Big(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64Big(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must fit a JS number exactly (a count, length, dimension or offset). */
  u64Safe(what: string): number {
    const start = this.pos;
    const v = this.u64Big(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.fail(`${what} at byte ${start} is ${v}, far larger than any real file; the file is damaged or not in this format`);
    }
    return Number(v);
  }

  /** A count of items that each take at least `minItemBytes`: refused if the file cannot hold them. */
  count(what: string, minItemBytes: number): number {
    const start = this.pos;
    const n = this.u64Safe(what);
    if (n * minItemBytes > this.remaining) {
      this.fail(`${what} at byte ${start} is ${n}, but only ${this.remaining} bytes remain (each item needs at least ${minItemBytes}); the file is truncated or damaged`);
    }
    return n;
  }

  /**
   * A u64 byte length followed by that many bytes of UTF-8. `lenient` replaces invalid sequences
   * with U+FFFD instead of failing (for values such as vocabulary entries, not names or keys).
   */
  string(what: string, lenient = false): string {
    const start = this.pos;
    const len = this.count(`the length of ${what}`, 1);
    const raw = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    if (lenient) return utf8Lenient.decode(raw);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail(`${what} at byte ${start} is not valid UTF-8; the file is damaged`);
    }
  }
}
