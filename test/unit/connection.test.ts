import { describe, expect, it } from 'vitest';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, lazy, MAX_PAGE_SIZE, pageSize } from '../../src/common/connection';

describe('connection helper', () => {
  it('defaults and bounds the page size', () => {
    expect(pageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(null)).toBe(50);
    expect(pageSize(0)).toBe(0);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(500);
    expect(() => pageSize(501)).toThrow('first: expected an integer from 0 to 500, received 501');
    expect(() => pageSize(-1)).toThrow('first: expected an integer from 0 to 500, received -1');
    expect(() => pageSize(100000)).toThrow(/received 100000/);
  });

  it('round-trips cursors, dates included', () => {
    const when = new Date('2026-05-01T10:00:00.123Z');
    const cursor = encodeCursor('Department(code,at,n)', ['MKT', when, 7]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const [code, date, n] = decodeCursor('Department(code,at,n)', cursor, ['string', 'date', 'integer']);
    expect(code).toBe('MKT');
    expect(date).toBeInstanceOf(Date);
    expect((date as Date).toISOString()).toBe('2026-05-01T10:00:00.123Z');
    expect(n).toBe(7);
  });

  it('refuses foreign, forged or mangled cursors with BAD_USER_INPUT on `after`', () => {
    const forged = (json: string) => Buffer.from(json).toString('base64url');
    const bad = [
      'nope',
      'x'.repeat(5000),
      encodeCursor('L', ['only-one']),
      encodeCursor('Other(code,id)', ['MKT', '00000000-0000-4000-8000-000000000000']), // another list's cursor
      forged('{"a":1}'),
      forged('1e999'),
      forged('{"w":1e20}'),
      forged('["L",1e999,"00000000-0000-4000-8000-000000000000"]'), // Infinity
      forged('["L","MKT","not-a-uuid"]'),
      forged('["L","A\\u0000B","00000000-0000-4000-8000-000000000000"]'), // a NUL byte
      forged('["L","\\ud800","00000000-0000-4000-8000-000000000000"]'), // a lone surrogate
      forged('["L",{"$ne":null},"00000000-0000-4000-8000-000000000000"]'), // an operator
    ];
    const parts = ['string', 'uuid'] as const;
    expect(decodeCursor('L', encodeCursor('L', ['MKT', '00000000-0000-4000-8000-000000000000']), [...parts])).toEqual(['MKT', '00000000-0000-4000-8000-000000000000']);
    for (const d of ['{"d":"0000-01-01T00:00:00Z"}', '{"d":"+275760-09-13T00:00:00Z"}', '{"d":"never"}', '1e20']) {
      expect(() => decodeCursor('D', forged(`["D",${d}]`), ['date'])).toThrow(/after: expected a cursor returned by this list/);
    }
    for (const m of ['"9999-12"', '"2026-13"']) expect(() => decodeCursor('M', forged(`["M",${m}]`), ['month'])).toThrow(/after:/);
    expect(() => decodeCursor('N', forged('["N",1.5]'), ['integer'])).toThrow(/after:/);
    for (const cursor of bad) {
      try {
        decodeCursor('L', cursor, [...parts]);
        expect.unreachable();
      } catch (e) {
        expect((e as { extensions: { code: string; field: string } }).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    }
  });

  it('runs a lazy value only when awaited, and once', async () => {
    let calls = 0;
    const value = lazy(async () => ++calls);
    expect(calls).toBe(0);
    expect(await value).toBe(1);
    expect(await value).toBe(1);
    expect(calls).toBe(1);
  });
});
