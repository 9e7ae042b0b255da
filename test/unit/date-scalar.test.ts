import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateScalar } from '../../src/common/scalars';

describe('the Date scalar (DESIGN §7: calendar dates are `Date`)', () => {
  it('passes a real "YYYY-MM-DD" date through as the same string, in and out', () => {
    expect(DateScalar.parseValue('2028-02-29')).toBe('2028-02-29');
    expect(DateScalar.parseLiteral({ kind: Kind.STRING, value: '2026-12-31' })).toBe('2026-12-31');
    expect(DateScalar.serialize('2026-02-06')).toBe('2026-02-06');
  });

  it('refuses what is not a calendar date, saying what it expected and what it received', () => {
    const refused = (value: unknown) => () => DateScalar.parseValue(value);
    expect(refused('2026-02-30')).toThrow('Date: expected a calendar date as "YYYY-MM-DD", received "2026-02-30"');
    expect(refused('2027-02-29')).toThrow('received "2027-02-29"');
    expect(refused('2026-2-3')).toThrow('received "2026-2-3"');
    expect(refused('2026-02-06T00:00:00Z')).toThrow('received "2026-02-06T00:00:00Z"');
    expect(refused(20260206)).toThrow('received 20260206');
    expect(refused('1999-12-31')).toThrow('Date: expected a date from 2000-01-01 to 2099-12-31, received "1999-12-31"');
    expect(refused('2100-01-01')).toThrow('received "2100-01-01"');
    expect(() => DateScalar.parseLiteral({ kind: Kind.INT, value: '20260206' })).toThrow('Date: expected a date as a "YYYY-MM-DD" string, received a IntValue literal');
    expect(() => DateScalar.serialize('06.02.2026')).toThrow('received "06.02.2026"');
  });
});
