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
    const cursor = encodeCursor(['MKT', when, 7]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const [code, date, n] = decodeCursor(cursor, 3);
    expect(code).toBe('MKT');
    expect(date).toBeInstanceOf(Date);
    expect((date as Date).toISOString()).toBe('2026-05-01T10:00:00.123Z');
    expect(n).toBe(7);
  });

  it('refuses foreign or mangled cursors with BAD_USER_INPUT on `after`', () => {
    for (const bad of ['nope', encodeCursor(['only-one']), Buffer.from('{"a":1}').toString('base64url')]) {
      try {
        decodeCursor(bad, 2);
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
