import { HeaderMap } from '@apollo/server';
import { buildSchema, parse } from 'graphql';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RecentWrites } from '../../src/common/read-route';
import { PreparedQueries } from '../../src/http/prepared-query';

/** The prepared-query path's memory of documents is bounded by count and by the length of their texts. */
describe('prepared documents', () => {
  const schema = buildSchema('type Query { a: Int }');
  const prepared = () =>
    new PreparedQueries(
      schema,
      async () => undefined,
      { replicas: false, writes: new RecentWrites(1000) },
      pino({ level: 'silent' }),
      (f) => f,
    );
  /** A valid query of exactly `length` characters, distinct by `n`. */
  const query = (n: number, length: number) => {
    const head = `query Q${n} { a }`;
    return head + ' '.repeat(length - head.length);
  };
  const answered = { status: undefined, headers: new HeaderMap([['content-type', 'application/json; charset=utf-8']]), body: { kind: 'complete' as const, string: '{}' } };

  it('keeps the newest texts within 512 KiB in all, none longer than 16 KiB, and only for an Accept Apollo answered', () => {
    const p = prepared();
    const texts = Array.from({ length: 40 }, (_, n) => query(n, 16_000));
    for (const t of texts) p.remember(t, parse(t));
    expect(p.match({ query: texts[39] }, undefined)).toBeNull();
    p.answered(undefined, answered);
    // 32 texts of 16,000 characters fit in 524,288; the 8 oldest went.
    expect(texts.map((t) => p.match({ query: t }, undefined) !== null)).toEqual(texts.map((_, n) => n >= 8));
    expect(p.match({ query: texts[39] }, undefined)?.contentType).toBe('application/json; charset=utf-8');
    expect(p.match({ query: texts[39] }, 'application/json')).toBeNull();
    const long = query(99, 16_385);
    p.remember(long, parse(long));
    expect(p.match({ query: long }, undefined)).toBeNull();
    // What Apollo alone reads: variables as a string, extensions, an operation name that is not a string.
    expect(p.match({ query: texts[39], variables: '{}' }, undefined)).toBeNull();
    expect(p.match({ query: texts[39], extensions: {} }, undefined)).toBeNull();
    expect(p.match({ query: texts[39], operationName: 1 }, undefined)).toBeNull();
    expect(p.match({ query: texts[39], operationName: 'Q39' }, undefined)?.operationName).toBe('Q39');
    expect(p.match({ query: texts[39], operationName: 'Other' }, undefined)).toBeNull();
  });
});
