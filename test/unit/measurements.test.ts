import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateMeasurements, MEASUREMENT_AGGREGATIONS, type MeasuredInterval } from '../../src/scoring';

const t = (iso: string) => Date.parse(iso);
// April 2026 in Europe/Berlin: from 2026-03-31T22:00Z to 2026-04-30T22:00Z (30 days).
const APRIL_FROM = t('2026-03-31T22:00:00Z');
const APRIL_TO = t('2026-04-30T22:00:00Z');
const iv = (from: string, to: string, value: number, key = from): MeasuredInterval => ({ from: t(from), to: t(to), value, key });

describe('aggregateMeasurements', () => {
  const outage = [
    iv('2026-03-31T22:00:00Z', '2026-04-10T22:00:00Z', 100, 'a'), // 10 days up
    iv('2026-04-10T22:00:00Z', '2026-04-11T10:00:00Z', 0, 'b'), // 12 hours down
    iv('2026-04-11T10:00:00Z', '2026-04-30T22:00:00Z', 100, 'c'), // 19.5 days up
  ];

  it('TIME_WEIGHTED: the share of the measured time up, weighted by duration', () => {
    // 12 h down of 720 h: 100 × 708 / 720 = 98.333…
    expect(aggregateMeasurements('TIME_WEIGHTED', outage, APRIL_FROM, APRIL_TO)).toBe(98.333333333);
  });

  it('TIME_WEIGHTED clips intervals to the month and ignores time no measurement covers', () => {
    const list = [
      iv('2026-03-30T22:00:00Z', '2026-04-01T22:00:00Z', 0, 'a'), // 1 day down in March, 1 in April
      iv('2026-04-01T22:00:00Z', '2026-04-04T22:00:00Z', 100, 'b'), // 3 days up
      iv('2026-04-29T22:00:00Z', '2026-05-02T22:00:00Z', 50, 'c'), // 1 day at 50 in April
    ];
    // (0 × 1 + 100 × 3 + 50 × 1) / 5 days = 70
    expect(aggregateMeasurements('TIME_WEIGHTED', list, APRIL_FROM, APRIL_TO)).toBe(70);
    // March sees only the first day of the first: 0.
    expect(aggregateMeasurements('TIME_WEIGHTED', list, t('2026-02-28T23:00:00Z'), APRIL_FROM)).toBe(0);
  });

  it('MEAN, SUM and LAST', () => {
    const list = [
      iv('2026-04-01T00:00:00Z', '2026-04-02T00:00:00Z', 2, 'x'),
      iv('2026-04-05T00:00:00Z', '2026-04-06T00:00:00Z', 3, 'y'),
      iv('2026-04-30T10:00:00Z', '2026-05-01T10:00:00Z', 8, 'z'), // 12 of its 24 hours in April
    ];
    expect(aggregateMeasurements('MEAN', list, APRIL_FROM, APRIL_TO)).toBe(4.333333333);
    expect(aggregateMeasurements('SUM', list, APRIL_FROM, APRIL_TO)).toBe(9); // 2 + 3 + 8 × 12/24
    expect(aggregateMeasurements('LAST', list, APRIL_FROM, APRIL_TO)).toBe(8);
    // LAST between intervals ending at once: the later start, then the greater key.
    const ties = [iv('2026-04-01T00:00:00Z', '2026-04-10T00:00:00Z', 1, 'b'), iv('2026-04-05T00:00:00Z', '2026-04-10T00:00:00Z', 2, 'a'), iv('2026-04-05T00:00:00Z', '2026-04-10T00:00:00Z', 3, 'c')];
    expect(aggregateMeasurements('LAST', ties, APRIL_FROM, APRIL_TO)).toBe(3);
  });

  it('a month no measurement overlaps has no value; an interval ending at the month start is not in it', () => {
    for (const a of MEASUREMENT_AGGREGATIONS) {
      expect(aggregateMeasurements(a, [], APRIL_FROM, APRIL_TO)).toBeNull();
      expect(aggregateMeasurements(a, [iv('2026-03-01T00:00:00Z', '2026-03-31T22:00:00Z', 5)], APRIL_FROM, APRIL_TO)).toBeNull();
    }
  });

  // Intervals inside a window around April, on whole minutes.
  const minute = 60_000;
  const start = APRIL_FROM - 3 * 24 * 60 * minute;
  const span = APRIL_TO - start + 3 * 24 * 60 * minute;
  const interval = fc
    .tuple(fc.integer({ min: 0, max: span / minute - 1 }), fc.integer({ min: 1, max: 10 * 24 * 60 }), fc.integer({ min: 0, max: 100 }))
    .map(([offset, length, value]) => ({ from: start + offset * minute, to: start + (offset + length) * minute, value }));
  const intervals = fc.array(interval, { minLength: 1, maxLength: 20 }).map((list) => list.map((m, i) => ({ ...m, key: String(i).padStart(3, '0') })));

  it('TIME_WEIGHTED of a set uniformly at one value is that value (all up: 100), whenever any of it falls in the month', () => {
    fc.assert(
      fc.property(intervals, fc.constantFrom(0, 1, 99.95, 100), (list, v) => {
        const result = aggregateMeasurements(
          'TIME_WEIGHTED',
          list.map((m) => ({ ...m, value: v })),
          APRIL_FROM,
          APRIL_TO,
        );
        const anyInside = list.some((m) => m.to > APRIL_FROM && m.from < APRIL_TO);
        expect(result).toBe(anyInside ? v : null);
      }),
    );
  });

  it('splitting an interval in two at any instant does not change TIME_WEIGHTED', () => {
    fc.assert(
      fc.property(intervals, fc.nat(), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (list, pick, at) => {
        const i = pick % list.length;
        const m = list[i];
        const cut = m.from + Math.max(1, Math.floor((m.to - m.from) * at));
        if (cut >= m.to) return;
        const split = [...list.slice(0, i), { ...m, to: cut }, { ...m, from: cut, key: `${m.key}b` }, ...list.slice(i + 1)];
        const before = aggregateMeasurements('TIME_WEIGHTED', list, APRIL_FROM, APRIL_TO);
        const after = aggregateMeasurements('TIME_WEIGHTED', split, APRIL_FROM, APRIL_TO);
        if (before === null) expect(after).toBeNull();
        else expect(after).toBeCloseTo(before, 6);
      }),
    );
  });

  it('SUM is additive over months: an interval prorated over the months it spans adds up to its value', () => {
    fc.assert(
      fc.property(intervals, (list) => {
        const inside = list.filter((m) => m.from >= APRIL_FROM && m.to <= APRIL_TO + 3 * 24 * 60 * minute && m.from < APRIL_TO && m.to > APRIL_FROM);
        if (!inside.length) return;
        const april = aggregateMeasurements('SUM', inside, APRIL_FROM, APRIL_TO) ?? 0;
        const may = aggregateMeasurements('SUM', inside, APRIL_TO, APRIL_TO + 31 * 24 * 60 * minute) ?? 0;
        expect(april + may).toBeCloseTo(
          inside.reduce((s, m) => s + m.value, 0),
          6,
        );
      }),
    );
  });
});
