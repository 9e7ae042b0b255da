import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agreementMonthStatus,
  attainment,
  baselineSuggestion,
  compliance,
  DIRECTIONS,
  errorBudget,
  evaluateObjectiveMonth,
  OBJECTIVE_STATUSES,
  rollUp,
  score,
  scoreAgreementMonth,
  serviceCredit,
  trend,
  type AgreementMonthInput,
  type ObjectiveMonthInput,
  type ObjectiveMonthResult,
  type ObjectiveStatus,
} from '../../src/scoring';
import { orderIndependentSum } from '../../src/scoring/numeric';

const DUE = new Date('2026-04-07T17:00:00.000Z');
const MONTH_ENDS = new Date('2026-04-01T00:00:00.000Z');
const BEFORE_DUE = new Date('2026-04-01T00:00:00.000Z');
const AFTER_DUE = new Date('2026-04-20T00:00:00.000Z');

const direction = fc.constantFrom(...DIRECTIONS);
const status = fc.constantFrom(...OBJECTIVE_STATUSES);
/**
 * Numbers as people enter them (whole numbers, two decimals) mixed with arbitrary doubles: fc.double
 * alone spreads over exponents, so most of its values are tiny or huge and sums of them rarely
 * round, which would leave float edge cases untried.
 */
const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -100_000, max: 100_000 }).map((n) => n / 100),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
);
const weight = fc.oneof(
  fc.integer({ min: 1, max: 10 }),
  fc.integer({ min: 1, max: 1000 }).map((n) => n / 100),
  fc.double({ min: 0.001, max: 100, noNaN: true }),
);
const creditPercent = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 1000 }).map((n) => n / 10),
  fc.double({ min: 0, max: 100, noNaN: true }),
);
const now = fc.constantFrom(BEFORE_DUE, DUE, AFTER_DUE);

/** A valid objective-month: the warning, when there is one, sits on the right side of the target. */
const objectiveMonth: fc.Arbitrary<ObjectiveMonthInput> = fc
  .record({
    direction,
    target: number,
    warningOffset: fc.option(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1e3, noNaN: true })), { nil: null }),
    weight,
    creditPercent,
    value: fc.option(number, { nil: null }),
    excused: fc.boolean(),
  })
  .map(({ warningOffset, ...o }) => ({
    ...o,
    warning: warningOffset === null ? null : o.direction === 'HIGHER_IS_BETTER' ? o.target + warningOffset : o.target - warningOffset,
    dueAt: DUE,
    monthEndsAt: MONTH_ENDS,
  }));

const agreementMonth = (objectives: ObjectiveMonthInput[]): AgreementMonthInput => ({
  month: '2026-03',
  objectives,
  complianceTarget: 0.9,
  creditCapPercent: 25,
  monthlyCharge: 10000,
});

const objectiveResult: fc.Arbitrary<ObjectiveMonthResult> = fc.tuple(objectiveMonth, now).map(([o, at]) => evaluateObjectiveMonth(o, at));

/** A permutation of `items` driven by fast-check (so failures shrink and replay). */
function permuted<T>(items: T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });
}

describe('scoring properties', () => {
  it('rule 0: nothing of a month that has not ended is scored, breached, counted or credited', () => {
    const beforeEnd = fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date(MONTH_ENDS.getTime() - 1), noInvalidDate: true });
    fc.assert(
      fc.property(fc.array(objectiveMonth, { minLength: 1, maxLength: 8 }), beforeEnd, (objectives, at) => {
        const r = scoreAgreementMonth(agreementMonth(objectives), at);
        expect(r.objectives.every((o) => o.status === 'PENDING' && o.attainment === null)).toBe(true);
        expect(r.score).toBeNull();
        expect(r.compliance.evaluated).toBe(0);
        expect(r.credit.amount).toBe(0);
      }),
    );
  });

  it('attainment is in [0, 1] when scored and null exactly for EXCUSED and PENDING', () => {
    fc.assert(
      fc.property(objectiveMonth, now, (o, at) => {
        const r = evaluateObjectiveMonth(o, at);
        if (r.status === 'EXCUSED' || r.status === 'PENDING') return r.attainment === null;
        return r.attainment !== null && r.attainment >= 0 && r.attainment <= 1 && !Object.is(r.attainment, -0);
      }),
    );
    fc.assert(
      fc.property(direction, number, number, fc.constantFrom<ObjectiveStatus>('MET', 'AT_RISK', 'BREACHED', 'NO_DATA'), (d, t, v, s) => {
        const a = attainment(d, t, v, s);
        return a !== null && a >= 0 && a <= 1;
      }),
    );
  });

  it('the status agrees with the attainment: a breach attains less than 1, anything met attains 1', () => {
    fc.assert(
      fc.property(objectiveMonth, (o) => {
        const r = evaluateObjectiveMonth(o, AFTER_DUE);
        if (r.status === 'BREACHED' || r.status === 'NO_DATA') return (r.attainment as number) < 1;
        if (r.status === 'MET' || r.status === 'AT_RISK') return r.attainment === 1;
        return r.status === 'EXCUSED';
      }),
    );
  });

  it('tightening targets (value fixed) never raises the score, in either direction', () => {
    const delta = fc.oneof(
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100),
      fc.double({ min: 0, max: 1e4, noNaN: true }),
    );
    const tightened = fc.array(fc.tuple(objectiveMonth, delta), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(tightened, now, (pairs, at) => {
        // The warning plays no part in attainment; drop it so a tighter target stays valid.
        const loose = pairs.map(([o]) => ({ ...o, warning: null }));
        const tight = pairs.map(([o, d]) => ({ ...o, warning: null, target: o.direction === 'HIGHER_IS_BETTER' ? o.target + d : o.target - d }));
        const before = scoreAgreementMonth(agreementMonth(loose), at).score;
        const after = scoreAgreementMonth(agreementMonth(tight), at).score;
        if (before === null) return after === null; // what is scored does not depend on the target
        return after !== null && after <= before;
      }),
    );
  });

  it('pooling is independent of order: shuffled months and objectives give the identical roll-up', () => {
    const months = fc.array(fc.array(objectiveResult, { maxLength: 6 }), { maxLength: 6 });
    fc.assert(
      fc.property(
        months.chain((ms) =>
          fc.tuple(
            fc.constant(ms),
            permuted(ms).chain((shuffled) => fc.tuple(...shuffled.map((objectives) => permuted(objectives)))),
          ),
        ),
        ([ms, shuffled]) => {
          const original = rollUp(ms.map((objectives) => ({ objectives })));
          const reordered = rollUp(shuffled.map((objectives) => ({ objectives })));
          expect(reordered).toEqual(original); // bit-for-bit, not merely close
          expect(original.score).toBe(score(ms.flat()));
        },
      ),
    );
  });

  it('the sums behind scores and credits are bit-for-bit the same in any order', () => {
    const values = fc.array(number, { maxLength: 20 });
    fc.assert(
      fc.property(
        values.chain((vs) => fc.tuple(fc.constant(vs), permuted(vs))),
        ([vs, shuffled]) => Object.is(orderIndependentSum(shuffled), orderIndependentSum(vs)) || (orderIndependentSum(vs) === 0 && orderIndependentSum(shuffled) === 0),
      ),
    );
  });

  it('excusing a breach never raises the credit, never adds a breach and never lowers the compliance rate', () => {
    fc.assert(
      fc.property(fc.array(objectiveMonth, { minLength: 1, maxLength: 8 }), fc.nat(), (objectives, pick) => {
        const before = scoreAgreementMonth(agreementMonth(objectives), AFTER_DUE);
        const breached = before.objectives.flatMap((r, i) => (r.status === 'BREACHED' || r.status === 'NO_DATA' ? [i] : []));
        fc.pre(breached.length > 0);
        const i = breached[pick % breached.length];
        const after = scoreAgreementMonth(agreementMonth(objectives.map((o, j) => (j === i ? { ...o, excused: true } : o))), AFTER_DUE);
        expect(after.credit.percent).toBeLessThanOrEqual(before.credit.percent);
        expect(after.credit.uncappedPercent).toBeLessThanOrEqual(before.credit.uncappedPercent);
        expect(after.credit.amount).toBeLessThanOrEqual(before.credit.amount);
        expect(after.compliance.breaches).toBe(before.compliance.breaches - 1);
        if (after.compliance.rate !== null) expect(after.compliance.rate).toBeGreaterThanOrEqual(before.compliance.rate as number);
      }),
    );
  });

  it('excusing a breach never lowers the score when the breach attained no more than the rest (always so for NO_DATA)', () => {
    // Unconditionally "never lowers" is false: see the counterexample in scoring.test.ts. An excused
    // objective-month leaves the set, so the score rises exactly when it was below the rest's average.
    fc.assert(
      fc.property(fc.array(objectiveMonth, { minLength: 1, maxLength: 8 }), fc.nat(), (objectives, pick) => {
        const before = scoreAgreementMonth(agreementMonth(objectives), AFTER_DUE);
        const breached = before.objectives.flatMap((r, i) => (r.status === 'BREACHED' || r.status === 'NO_DATA' ? [i] : []));
        fc.pre(breached.length > 0);
        const i = breached[pick % breached.length];
        const after = scoreAgreementMonth(agreementMonth(objectives.map((o, j) => (j === i ? { ...o, excused: true } : o))), AFTER_DUE);
        const excused = before.objectives[i];
        if (after.score === null) return; // it was the only scored objective-month
        if (excused.attainment === 0) {
          expect(after.score).toBeGreaterThanOrEqual(before.score as number); // exact
        } else if ((excused.attainment as number) * 100 <= after.score) {
          expect(after.score).toBeGreaterThanOrEqual((before.score as number) - 1e-8); // both rounded to 9 decimals
        }
      }),
    );
  });

  it('compliance: met + breaches = evaluated ≤ the number of objective-months; rate in [0, 1]', () => {
    fc.assert(
      fc.property(fc.array(status, { maxLength: 30 }), (statuses) => {
        const c = compliance(statuses);
        expect(c.met + c.breaches).toBe(c.evaluated);
        expect(c.evaluated).toBeLessThanOrEqual(statuses.length);
        expect(c.evaluated).toBe(statuses.filter((s) => s !== 'PENDING' && s !== 'EXCUSED').length);
        if (c.evaluated === 0) {
          expect(c.rate).toBeNull();
        } else {
          expect(c.rate).toBeGreaterThanOrEqual(0);
          expect(c.rate).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('score is in [0, 100], or null exactly when nothing is scored', () => {
    fc.assert(
      fc.property(fc.array(objectiveResult, { maxLength: 12 }), (results) => {
        const s = score(results);
        if (results.every((r) => r.attainment === null)) return s === null;
        return s !== null && s >= 0 && s <= 100;
      }),
    );
  });

  it('the agreement-month status is the worst of its objectives', () => {
    fc.assert(
      fc.property(fc.array(status, { maxLength: 10 }), (statuses) => {
        const s = agreementMonthStatus(statuses);
        if (statuses.length === 0) return s === null;
        return s !== null && statuses.includes(s) && statuses.every((x) => OBJECTIVE_STATUSES.indexOf(x) >= OBJECTIVE_STATUSES.indexOf(s));
      }),
    );
  });

  it('the error budget floors the exact product for targets with up to three decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 10000 }), (permille, evaluated) => {
        const exact = ((1000 - permille) * evaluated - (((1000 - permille) * evaluated) % 1000)) / 1000; // integer arithmetic
        expect(errorBudget(permille / 1000, { evaluated, breaches: 0 }).allowed).toBe(exact);
      }),
    );
  });

  it('the credit never exceeds the cap, the uncapped sum or the monthly charge', () => {
    const charge = fc.integer({ min: 0, max: 100_000_000 }).map((cents) => cents / 100);
    fc.assert(
      fc.property(fc.array(objectiveResult, { maxLength: 12 }), creditPercent, charge, (results, cap, charge) => {
        const c = serviceCredit(results, cap, charge);
        return c.percent <= cap && c.percent <= c.uncappedPercent && c.amount >= 0 && c.amount <= charge;
      }),
    );
  });

  it('the trend of a straight line is its slope', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 24 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: -4, max: 4, noNaN: true }), (n, start, slope) => {
        const months = Array.from({ length: n }, (_, i) => `20${String(25 + Math.floor(i / 12))}-${String((i % 12) + 1).padStart(2, '0')}`);
        const t = trend(months.map((month, i) => ({ month, score: start + slope * i })));
        expect(t.slope).not.toBeNull();
        expect(Math.abs((t.slope as number) - slope)).toBeLessThan(1e-6);
      }),
    );
  });

  it('the baseline is ordered p25 ≤ median ≤ p75 within the values it used', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 120 }), { minLength: 3, maxLength: 12 }), fc.array(number, { minLength: 12, maxLength: 12 }), (idx, values) => {
        const history = idx.map((k, j) => ({ month: `${2020 + Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}`, value: values[j] }));
        const b = baselineSuggestion(history);
        expect(b).not.toBeNull();
        const used = [...history]
          .sort((x, y) => x.month.localeCompare(y.month))
          .slice(-6)
          .map((h) => h.value);
        expect(b!.basedOn).toBe(used.length);
        expect(b!.p25).toBeLessThanOrEqual(b!.median);
        expect(b!.median).toBeLessThanOrEqual(b!.p75);
        expect(b!.p25).toBeGreaterThanOrEqual(Math.min(...used));
        expect(b!.p75).toBeLessThanOrEqual(Math.max(...used));
      }),
    );
  });
});
