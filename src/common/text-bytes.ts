/**
 * Text written a piece at a time straight into UTF-8 bytes, for the large answers of BI pulls (a
 * facts page of 2,000 rows is about a megabyte of JSON, src/http/facts-execution.ts; the CSV
 * export, src/modules/exports/csv.ts). Pieces are appended to {@link TextBytes.text}, a short
 * string that goes into the current chunk every few kilobytes ({@link TextBytes.spill}).
 *
 * Why not one string: a page built with `+=` is a rope of some 90,000 small strings, all alive
 * until the page is sent. V8 copied them in every young-generation collection during the page
 * (a collection every two or three pages), then flattened the rope to measure it
 * (`Buffer.byteLength`) and encoded it again to write it: on the large data set's facts pull,
 * byteLength alone was 7 % of the server's CPU and the scavenges 10 to 17 % (CPU profiles of the
 * server child). A few kilobytes at a time, the pieces die young and are encoded once.
 */

/** How long {@link TextBytes.text} may grow before {@link TextBytes.spill} moves it into bytes. */
const SPILL = 8 * 1024;
/** The size of a chunk of bytes (a longer text gets a chunk of its own size). */
const CHUNK = 256 * 1024;

export class TextBytes {
  /** The text not yet in bytes: append pieces with `+=`. */
  text = '';
  private readonly full: Buffer[] = [];
  private chunk: Buffer | null = null;
  private used = 0;
  private total = 0;

  /** Moves {@link text} into bytes when it has grown past a few kilobytes (call it between rows). */
  spill(): void {
    if (this.text.length >= SPILL) this.flush();
  }

  /** Moves {@link text} into bytes. */
  flush(): void {
    const text = this.text;
    if (!text) return;
    this.text = '';
    // UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair's 4 bytes are 2 units).
    const room = text.length * 3;
    if (!this.chunk || this.used + room > this.chunk.length) {
      this.close();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK, room));
    }
    const n = this.chunk.write(text, this.used);
    this.used += n;
    this.total += n;
  }

  /** How many bytes have been written so far (after {@link flush}). */
  get byteLength(): number {
    return this.total;
  }

  /** Everything written, as chunks of bytes in order; the writer starts afresh. */
  take(): Buffer[] {
    this.flush();
    this.close();
    const out = this.full.splice(0);
    this.total = 0;
    return out;
  }

  /** The current chunk's written part goes to the full ones. */
  private close(): void {
    if (this.chunk && this.used) this.full.push(this.chunk.subarray(0, this.used));
    this.chunk = null;
    this.used = 0;
  }
}

/** How many texts {@link keptBy} keeps before it starts again: a page repeats a few months, instants and enum values. */
const KEPT = 4096;

/**
 * `write`, with its text kept by `key` of the value after the first time (a value whose key is
 * undefined is written every time): for the cells and leaves of BI pages, whose months, instants
 * and enum values repeat from row to row. At most a few thousand texts are kept.
 */
export function keptBy<K>(key: (v: unknown) => K | undefined, write: (v: unknown) => string): (v: unknown) => string {
  const texts = new Map<K, string>();
  return (v) => {
    const k = key(v);
    if (k === undefined) return write(v);
    let text = texts.get(k);
    if (text === undefined) {
      text = write(v);
      if (texts.size >= KEPT) texts.clear();
      texts.set(k, text);
    }
    return text;
  };
}
