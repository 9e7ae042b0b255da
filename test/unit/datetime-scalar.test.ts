import fc from 'fast-check';
import { DateTimeResolver } from 'graphql-scalars';
import { describe, expect, it } from 'vitest';
import { instantProblem } from '../../src/common/bounds';
import { canonicalInstant, DateTimeScalar } from '../../src/common/scalars';

/** The canonical parse as it was before the digit-by-digit one: a regular expression, then a round trip through `Date`. */
function roundTrip(value: unknown): Date | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(value)) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  return iso === value || (value.length === 20 && iso === `${value.slice(0, 19)}.000Z`) ? date : null;
}

/** The `DateTime` scalar's parseValue as it was: the round trip, else graphql-scalars, then the 2000–2099 bounds. */
function parseBefore(value: unknown): Date {
  const date = roundTrip(value) ?? (DateTimeResolver.parseValue(value) as Date);
  const problem = instantProblem(date);
  if (problem) throw new Error(`DateTime: ${problem}`);
  return date;
}

const outcome = (parse: () => Date): { time: number } | { error: string } => {
  try {
    return { time: parse().getTime() };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** A character that may stand in for any other: digits, the separators, look-alikes. */
const anyChar = fc.constantFrom('0', '1', '9', '-', ':', 'T', 't', 'Z', 'z', '.', ' ', '+', '/', '٣', '\u0000', 'x');

/** Strings in (or near) the canonical shape, every field from below to above its range. */
const nearCanonical = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 99, 100, 1900, 1999, 2000, 2024, 2099, 2100, 9999)),
    month: fc.integer({ min: 0, max: 19 }),
    day: fc.oneof(fc.integer({ min: 0, max: 39 }), fc.constantFrom(28, 29, 30, 31)),
    hour: fc.integer({ min: 0, max: 29 }),
    minute: fc.integer({ min: 0, max: 69 }),
    second: fc.integer({ min: 0, max: 69 }),
    millis: fc.option(fc.integer({ min: 0, max: 999 })),
    edit: fc.option(fc.tuple(fc.nat(), anyChar, fc.constantFrom('replace', 'insert', 'delete'))),
  })
  .map(({ year, month, day, hour, minute, second, millis, edit }) => {
    let s = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${millis === null ? '' : `.${pad(millis, 3)}`}Z`;
    if (edit) {
      const [at, c, how] = edit;
      const i = at % (s.length + 1);
      s = how === 'replace' ? s.slice(0, i) + c + s.slice(i + 1) : how === 'insert' ? s.slice(0, i) + c + s.slice(i) : s.slice(0, i) + s.slice(i + 1);
    }
    return s;
  });

describe('the DateTime scalar’s canonical parse (issue 19: read digit by digit)', () => {
  it('accepts and refuses exactly the strings the Date round trip did, with the same instant', () => {
    fc.assert(
      fc.property(fc.oneof(nearCanonical, fc.string(), fc.integer(), fc.constant(null)), (value) => {
        const before = roundTrip(value);
        const now = canonicalInstant(value);
        expect(now === null ? null : now.getTime()).toBe(before === null ? null : before.getTime());
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives parseValue the same instants and the same refusals as before', () => {
    fc.assert(
      fc.property(fc.oneof(nearCanonical, fc.string()), (value) => {
        expect(outcome(() => DateTimeScalar.parseValue(value) as Date)).toEqual(outcome(() => parseBefore(value)));
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads the edges of the calendar as the round trip does', () => {
    for (const value of [
      '2024-02-29T23:59:59.999Z',
      '2023-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '2100-02-29T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '0099-12-31T23:59:59Z',
      '2026-01-01T24:00:00Z',
      '2026-12-31T23:59:60Z',
      '2026-04-31T00:00:00Z',
      '2026-06-30T12:00:00.5Z',
    ]) {
      const before = roundTrip(value);
      expect([value, canonicalInstant(value)?.getTime() ?? null]).toEqual([value, before?.getTime() ?? null]);
    }
    expect(canonicalInstant('2026-05-01T08:30:00Z')?.toISOString()).toBe('2026-05-01T08:30:00.000Z');
    expect(canonicalInstant('0099-12-31T23:59:59Z')?.toISOString()).toBe('0099-12-31T23:59:59.000Z');
  });
});
