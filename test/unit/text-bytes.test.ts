/** The byte writer of BI pages (src/common/text-bytes.ts): the bytes are the text's UTF-8, whatever the pieces. */
import { describe, expect, it } from 'vitest';
import { keptBy, TextBytes } from '../../src/common/text-bytes';

describe('TextBytes', () => {
  it('writes the UTF-8 of every piece in order, across spills and chunks, multi-byte characters included', () => {
    const out = new TextBytes();
    let expected = '';
    const pieces = ['{"a":', '"é€😀"', ',', 'x'.repeat(9000), '\u2028', 'ü'.repeat(100_000), '😀'.repeat(70_000), '€'.repeat(100_000), '}'];
    for (let round = 0; round < 3; round++) {
      for (const piece of pieces) {
        out.text += piece;
        expected += piece;
        out.spill();
      }
    }
    const chunks = out.take();
    expect(chunks.length).toBeGreaterThan(1);
    const bytes = Buffer.concat(chunks);
    expect(bytes.length).toBe(Buffer.byteLength(expected));
    expect(bytes.toString('utf8')).toBe(expected);
    // Taken: the writer starts afresh.
    out.text += 'next';
    expect(Buffer.concat(out.take()).toString('utf8')).toBe('next');
    expect(out.take()).toEqual([]);
  });
});

describe('keptBy', () => {
  it('writes a value once per key, and every time when it has none', () => {
    const written: unknown[] = [];
    const write = keptBy(
      (v) => (typeof v === 'string' ? v : undefined),
      (v) => {
        written.push(v);
        return `<${String(v)}>`;
      },
    );
    expect(['a', 'b', 'a', 1, 1, 'b'].map(write)).toEqual(['<a>', '<b>', '<a>', '<1>', '<1>', '<b>']);
    expect(written).toEqual(['a', 'b', 1, 1]);
  });
});
