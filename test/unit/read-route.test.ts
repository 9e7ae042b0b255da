import { describe, expect, it } from 'vitest';
import { readFromHeader, RecentWrites } from '../../src/common/read-route';

describe('read-your-writes window (issue 18)', () => {
  it('keeps a principal on the primary for the window after each write, and forgets expired principals', () => {
    const writes = new RecentWrites(10_000);
    writes.wrote('a', 1_000);
    expect([writes.isRecent('a', 1_000), writes.isRecent('a', 10_999), writes.isRecent('a', 11_000), writes.isRecent('b', 1_000)]).toEqual([true, true, false, false]);
    // A later write extends the window; an earlier one (a slow mutation answering late) never shortens it.
    writes.wrote('a', 5_000);
    writes.wrote('a', 2_000);
    expect([writes.isRecent('a', 14_999), writes.isRecent('a', 15_000)]).toEqual([true, false]);
    // The sweep, once a window, drops the principals whose window has passed.
    writes.wrote('b', 20_000);
    expect(writes.size).toBe(1);
  });

  it('never holds anyone with a window of 0', () => {
    const writes = new RecentWrites(0);
    writes.wrote('a', 1_000);
    expect([writes.isRecent('a', 1_000), writes.size]).toEqual([false, 0]);
  });

  it('reads X-Read-From: absent or primary, else a problem naming the header', () => {
    expect(readFromHeader(undefined)).toEqual({ forcePrimary: false });
    expect(readFromHeader(' Primary ')).toEqual({ forcePrimary: true });
    expect(readFromHeader('replica')).toEqual({ problem: 'X-Read-From: expected primary (or no header), received "replica"' });
  });
});
