import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainConversion, handoffMetricValues, handoffRates, handoffStats } from '../../src/scoring';

const event = (accepted: boolean, rejected: boolean, converted: boolean) => ({ accepted, rejected, converted, responseHours: null, qualityScore: null });

describe('handoff rates are fractions (DESIGN §7)', () => {
  it('gives acceptance over the decided items and conversion over everything handed over', () => {
    // 5 handed over: 3 accepted, 1 rejected, 1 undecided; 2 converted.
    const s = handoffStats([event(true, false, true), event(true, false, true), event(true, false, false), event(false, true, false), event(false, false, false)]);
    expect(handoffRates(s)).toEqual({ acceptance: 0.75, conversion: 0.4 });
    // The PERCENT metrics hold the same ratios in their unit, 0–100.
    expect(handoffMetricValues(s)).toMatchObject({ HANDOFF_ACCEPTANCE_RATE: 75, HANDOFF_CONVERSION_RATE: 40 });
  });

  it('rounds to nine decimals and has no rate without a denominator', () => {
    expect(handoffRates({ volume: 3, accepted: 2, rejected: 1, converted: 1 })).toEqual({ acceptance: 0.666666667, conversion: 0.333333333 });
    expect(handoffRates({ volume: 2, accepted: 0, rejected: 0, converted: 0 })).toEqual({ acceptance: null, conversion: 0 });
    expect(handoffRates({ volume: 0, accepted: 0, rejected: 0, converted: 0 })).toEqual({ acceptance: null, conversion: null });
  });

  it('multiplies the stages’ conversions into the end-to-end conversion', () => {
    expect(chainConversion([0.4, 0.5])).toBe(0.2);
    expect(chainConversion([0.1, 0.2, 0.3])).toBe(0.006);
    expect(chainConversion([0.4, null])).toBeNull();
    expect(chainConversion([])).toBeNull();
  });

  it('keeps every rate in [0, 1], and the metric value is 100 × the rate', () => {
    const events = fc.array(
      fc.tuple(fc.constantFrom('accepted', 'rejected', 'undecided'), fc.boolean()).map(([d, c]) => event(d === 'accepted', d === 'rejected', d !== 'rejected' && c)),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(events, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }), (list, conversions) => {
        const s = handoffStats(list);
        const r = handoffRates(s);
        const values = handoffMetricValues(s);
        for (const [rate, value] of [
          [r.acceptance, values.HANDOFF_ACCEPTANCE_RATE],
          [r.conversion, values.HANDOFF_CONVERSION_RATE],
        ]) {
          expect(rate === null).toBe(value === null);
          if (rate === null || value === null) continue;
          expect(rate).toBeGreaterThanOrEqual(0);
          expect(rate).toBeLessThanOrEqual(1);
          expect(Math.abs(100 * rate - value)).toBeLessThan(1e-6);
        }
        const e2e = chainConversion(conversions) as number;
        expect(e2e).toBeGreaterThanOrEqual(0);
        expect(e2e).toBeLessThanOrEqual(Math.min(...conversions) + 1e-9);
      }),
    );
  });
});
