import { isUUID } from 'class-validator';
import { validate, version } from 'uuid';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/common/ids';

/** The creation time a version 7 UUID carries in its first 48 bits. */
const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('newId (row ids are UUIDv7)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("is a version 7 UUID of the RFC 9562 variant, as the uuid package reads it, and passes the API's UUID checks", () => {
    for (let i = 0; i < 1_000; i++) {
      const id = newId();
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isUUID(id)).toBe(true);
    }
  });

  it('carries its creation time in milliseconds', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(millisOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisOf(id)).toBeLessThanOrEqual(after);
    vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 27, 8, 0, 0, 123));
    expect(millisOf(newId())).toBe(Date.UTC(2026, 10, 27, 8, 0, 0, 123));
    expect(newId().slice(0, 15)).toBe('01a21c04-b47b-7');
  });

  it('sorts in creation order across milliseconds, as text (SQLite) and as a uuid (PostgreSQL compares the bytes in the same order)', () => {
    const now = vi.spyOn(Date, 'now');
    const ids: string[] = [];
    for (let ms = 1_700_000_000_000; ms < 1_700_000_000_000 + 300; ms += 3) {
      now.mockReturnValue(ms);
      ids.push(newId());
    }
    expect([...ids].sort()).toEqual(ids);
  });

  it('is unique: 100,000 ids in the same millisecond differ', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(newId());
    expect(ids.size).toBe(100_000);
  });
});
