import { describe, expect, it } from 'vitest';
import {
  agreementMonthStatus,
  attainment,
  baselineSuggestion,
  compliance,
  errorBudget,
  evaluateObjectiveMonth,
  objectiveStatus,
  percentile,
  rollUp,
  score,
  scoreAgreementMonth,
  scoreAgreementWindow,
  serviceCredit,
  termsProblem,
  trend,
  warningProblem,
  type AgreementMonthInput,
  type ObjectiveMonthInput,
  type ObjectiveMonthResult,
  type ObjectiveStatus,
} from '../../src/scoring';

// The March 2026 report is due on 7 April at 17:00 UTC.
const DUE = new Date('2026-04-07T17:00:00.000Z');
const BEFORE_DUE = new Date('2026-04-07T16:59:59.999Z');
const AFTER_DUE = new Date('2026-04-07T17:00:00.001Z');
const LATER = new Date('2026-04-20T09:00:00.000Z');
// March 2026 ends on 1 April (UTC here); before it, every objective is PENDING (rule 0).
const MARCH_ENDS = new Date('2026-04-01T00:00:00.000Z');

function objective(over: Partial<ObjectiveMonthInput> = {}): ObjectiveMonthInput {
  return { direction: 'HIGHER_IS_BETTER', target: 95, warning: null, weight: 1, creditPercent: 5, value: 100, excused: false, dueAt: DUE, monthEndsAt: MARCH_ENDS, ...over };
}

function result(status: ObjectiveStatus, attainment: number | null, weight = 1, creditPercent = 0): ObjectiveMonthResult {
  return { status, attainment, weight, creditPercent };
}

function month(over: Partial<AgreementMonthInput> = {}): AgreementMonthInput {
  return { month: '2026-03', objectives: [], complianceTarget: 0.9, creditCapPercent: 15, monthlyCharge: 10000, ...over };
}

describe('rule 1: objective status', () => {
  it('classifies HIGHER_IS_BETTER values against target 95 and warning 97, boundaries included', () => {
    const at = (value: number) => objectiveStatus(objective({ target: 95, warning: 97, value }), LATER);
    expect(at(94.9)).toBe('BREACHED');
    expect(at(95)).toBe('AT_RISK'); // equal to the target is not a breach
    expect(at(96.9)).toBe('AT_RISK');
    expect(at(97)).toBe('MET'); // equal to the warning is not a warning
    expect(at(100)).toBe('MET');
    expect(at(0)).toBe('BREACHED');
  });

  it('classifies LOWER_IS_BETTER values against target 4 and warning 3, boundaries included', () => {
    const at = (value: number) => objectiveStatus(objective({ direction: 'LOWER_IS_BETTER', target: 4, warning: 3, value }), LATER);
    expect(at(4.1)).toBe('BREACHED');
    expect(at(4)).toBe('AT_RISK');
    expect(at(3.5)).toBe('AT_RISK');
    expect(at(3)).toBe('MET');
    expect(at(0)).toBe('MET');
  });

  it('never says AT_RISK without a warning', () => {
    expect(objectiveStatus(objective({ target: 95, warning: null, value: 95 }), LATER)).toBe('MET');
    expect(objectiveStatus(objective({ target: 95, warning: null, value: 94 }), LATER)).toBe('BREACHED');
    expect(objectiveStatus(objective({ direction: 'LOWER_IS_BETTER', target: 4, warning: null, value: 4 }), LATER)).toBe('MET');
    expect(objectiveStatus(objective({ direction: 'LOWER_IS_BETTER', target: 4, warning: null, value: 4.5 }), LATER)).toBe('BREACHED');
  });

  it('never says AT_RISK when the warning equals the target', () => {
    for (const value of [94, 95, 96]) {
      expect(objectiveStatus(objective({ target: 95, warning: 95, value }), LATER)).toBe(value < 95 ? 'BREACHED' : 'MET');
      expect(objectiveStatus(objective({ direction: 'LOWER_IS_BETTER', target: 95, warning: 95, value }), LATER)).toBe(value > 95 ? 'BREACHED' : 'MET');
    }
  });

  it('handles a target of 0 and a value of 0 in both directions', () => {
    expect(objectiveStatus(objective({ target: 0, value: 0 }), LATER)).toBe('MET');
    expect(objectiveStatus(objective({ target: 0, value: -1 }), LATER)).toBe('BREACHED');
    expect(objectiveStatus(objective({ direction: 'LOWER_IS_BETTER', target: 0, value: 0 }), LATER)).toBe('MET');
    expect(objectiveStatus(objective({ direction: 'LOWER_IS_BETTER', target: 0, value: 1 }), LATER)).toBe('BREACHED');
  });

  it('is PENDING before its month ends, whatever is known (rule 0), and scored from the end on', () => {
    const beforeEnd = new Date(MARCH_ENDS.getTime() - 1);
    // A breach so far, an excused objective, a missing value: all PENDING, none scored or credited.
    for (const o of [objective({ value: 10 }), objective({ value: 10, excused: true }), objective({ value: null }), objective({ value: 100 })]) {
      expect(objectiveStatus(o, beforeEnd)).toBe('PENDING');
      expect(evaluateObjectiveMonth(o, beforeEnd).attainment).toBeNull();
    }
    const future = scoreAgreementMonth(month({ objectives: [objective({ value: 10, creditPercent: 20 })] }), new Date('2026-03-15T00:00:00Z'));
    expect(future).toMatchObject({ status: 'PENDING', score: null, compliance: { evaluated: 0, met: 0, breaches: 0, rate: null }, credit: { percent: 0, amount: 0, uncappedPercent: 0 } });
    // From the very instant the month ends, the value is scored.
    expect(objectiveStatus(objective({ value: 10 }), MARCH_ENDS)).toBe('BREACHED');
    expect(objectiveStatus(objective({ value: 10, excused: true }), MARCH_ENDS)).toBe('EXCUSED');
    expect(() => objectiveStatus(objective({ monthEndsAt: new Date('nope') }), LATER)).toThrow('monthEndsAt: expected a valid Date, received an invalid Date');
  });

  it('is PENDING without a value up to and including the due instant, NO_DATA after it', () => {
    const missing = objective({ value: null });
    expect(objectiveStatus(missing, BEFORE_DUE)).toBe('PENDING');
    expect(objectiveStatus(missing, DUE)).toBe('PENDING');
    expect(objectiveStatus(missing, new Date(DUE.getTime()))).toBe('PENDING');
    expect(objectiveStatus(missing, AFTER_DUE)).toBe('NO_DATA');
    expect(objectiveStatus(missing, LATER)).toBe('NO_DATA');
  });

  it('scores a value that arrived before the due date at once', () => {
    expect(objectiveStatus(objective({ value: 90 }), BEFORE_DUE)).toBe('BREACHED');
    expect(objectiveStatus(objective({ value: 99 }), BEFORE_DUE)).toBe('MET');
  });

  it('says EXCUSED whatever the value or the clock', () => {
    expect(objectiveStatus(objective({ value: 10, excused: true }), LATER)).toBe('EXCUSED');
    expect(objectiveStatus(objective({ value: null, excused: true }), LATER)).toBe('EXCUSED');
    expect(objectiveStatus(objective({ value: null, excused: true }), BEFORE_DUE)).toBe('EXCUSED');
  });

  it('validates the warning: HIGHER needs w ≥ t, LOWER needs w ≤ t', () => {
    expect(warningProblem('HIGHER_IS_BETTER', 95, null)).toBeNull();
    expect(warningProblem('HIGHER_IS_BETTER', 95, 95)).toBeNull();
    expect(warningProblem('HIGHER_IS_BETTER', 95, 97)).toBeNull();
    expect(warningProblem('HIGHER_IS_BETTER', 95, 94)).toBe('warning: expected a number at or above the target 95 (HIGHER_IS_BETTER warns before the value drops below the target), received 94');
    expect(warningProblem('LOWER_IS_BETTER', 4, 4)).toBeNull();
    expect(warningProblem('LOWER_IS_BETTER', 4, 3)).toBeNull();
    expect(warningProblem('LOWER_IS_BETTER', 4, 5)).toBe('warning: expected a number at or below the target 4 (LOWER_IS_BETTER warns before the value rises above the target), received 5');
    expect(warningProblem('LOWER_IS_BETTER', 4, Number.NaN)).toBe('warning: expected a finite number or null, received NaN');
  });

  it('refuses invalid input with a RangeError naming the field', () => {
    expect(() => objectiveStatus(objective({ warning: 90 }), LATER)).toThrow(RangeError);
    expect(() => objectiveStatus(objective({ warning: 90 }), LATER)).toThrow(/^warning: expected a number at or above the target 95/);
    expect(() => objectiveStatus(objective({ value: Number.NaN }), LATER)).toThrow('value: expected a finite number, received NaN');
    expect(() => objectiveStatus(objective({ dueAt: new Date('nope') }), LATER)).toThrow('dueAt: expected a valid Date, received an invalid Date');
    expect(() => objectiveStatus(objective(), new Date(Number.NaN))).toThrow('now: expected a valid Date, received an invalid Date');
    expect(() => evaluateObjectiveMonth(objective({ weight: 0 }), LATER)).toThrow('weight: expected a number above 0, received 0');
    expect(() => evaluateObjectiveMonth(objective({ creditPercent: 101 }), LATER)).toThrow('creditPercent: expected a number from 0 to 100, received 101');
    expect(() => evaluateObjectiveMonth(objective({ target: Number.POSITIVE_INFINITY }), LATER)).toThrow('target: expected a finite number, received Infinity');
    expect(termsProblem(objective({ direction: 'UP' as never }))).toBe('direction: expected HIGHER_IS_BETTER or LOWER_IS_BETTER, received "UP"');
    expect(termsProblem(objective())).toBeNull();
  });
});

describe('rule 2: attainment', () => {
  it('HIGHER_IS_BETTER: 1 at or above the target, value / target below it, never below 0', () => {
    expect(attainment('HIGHER_IS_BETTER', 400, 300, 'BREACHED')).toBe(0.75);
    expect(attainment('HIGHER_IS_BETTER', 400, 400, 'MET')).toBe(1);
    expect(attainment('HIGHER_IS_BETTER', 400, 500, 'MET')).toBe(1);
    expect(attainment('HIGHER_IS_BETTER', 400, 0, 'BREACHED')).toBe(0);
    expect(attainment('HIGHER_IS_BETTER', 400, -10, 'BREACHED')).toBe(0);
    expect(attainment('HIGHER_IS_BETTER', 99.9, 99.5, 'BREACHED')).toBe(99.5 / 99.9);
  });

  it('HIGHER_IS_BETTER with a target ≤ 0: 1 if value ≥ target, else 0', () => {
    expect(attainment('HIGHER_IS_BETTER', 0, 0, 'MET')).toBe(1);
    expect(attainment('HIGHER_IS_BETTER', 0, 5, 'MET')).toBe(1);
    expect(attainment('HIGHER_IS_BETTER', 0, -1, 'BREACHED')).toBe(0);
    expect(attainment('HIGHER_IS_BETTER', -10, -10, 'MET')).toBe(1);
    expect(attainment('HIGHER_IS_BETTER', -10, -20, 'BREACHED')).toBe(0);
  });

  it('LOWER_IS_BETTER: 1 at or below the target, target / value above it', () => {
    expect(attainment('LOWER_IS_BETTER', 4, 8, 'BREACHED')).toBe(0.5);
    expect(attainment('LOWER_IS_BETTER', 4, 5, 'BREACHED')).toBe(0.8);
    expect(attainment('LOWER_IS_BETTER', 4, 4, 'MET')).toBe(1);
    expect(attainment('LOWER_IS_BETTER', 4, 0, 'MET')).toBe(1);
  });

  it('LOWER_IS_BETTER with a target of 0 (or below): 1 if value ≤ target, else 0', () => {
    expect(attainment('LOWER_IS_BETTER', 0, 0, 'MET')).toBe(1);
    expect(attainment('LOWER_IS_BETTER', 0, 3, 'BREACHED')).toBe(0);
    expect(attainment('LOWER_IS_BETTER', -2, -1, 'BREACHED')).toBe(0);
    expect(attainment('LOWER_IS_BETTER', -2, -3, 'MET')).toBe(1);
  });

  it('EXCUSED and PENDING are not scored; NO_DATA is 0', () => {
    expect(attainment('HIGHER_IS_BETTER', 400, 100, 'EXCUSED')).toBeNull();
    expect(attainment('HIGHER_IS_BETTER', 400, null, 'EXCUSED')).toBeNull();
    expect(attainment('HIGHER_IS_BETTER', 400, null, 'PENDING')).toBeNull();
    expect(attainment('HIGHER_IS_BETTER', 400, null, 'NO_DATA')).toBe(0);
    expect(attainment('LOWER_IS_BETTER', 0, null, 'NO_DATA')).toBe(0);
  });

  it('refuses a value status without a value', () => {
    expect(() => attainment('HIGHER_IS_BETTER', 400, null, 'BREACHED')).toThrow('value: expected a finite number for status BREACHED, received null');
    expect(() => attainment('HIGHER_IS_BETTER', 400, 1, 'LATE' as ObjectiveStatus)).toThrow(/^status: expected one of BREACHED, NO_DATA/);
  });

  it('comes with the status from evaluateObjectiveMonth', () => {
    expect(evaluateObjectiveMonth(objective({ target: 400, value: 300, weight: 2, creditPercent: 10 }), LATER)).toEqual({
      status: 'BREACHED',
      attainment: 0.75,
      weight: 2,
      creditPercent: 10,
    });
    expect(evaluateObjectiveMonth(objective({ value: null }), BEFORE_DUE)).toEqual({ status: 'PENDING', attainment: null, weight: 1, creditPercent: 5 });
    expect(evaluateObjectiveMonth(objective({ value: null }), AFTER_DUE)).toEqual({ status: 'NO_DATA', attainment: 0, weight: 1, creditPercent: 5 });
  });
});

describe('rule 3: score', () => {
  it('is 100 × Σ(k·a) / Σ(k) over the scored objective-months', () => {
    // (2 × 1 + 1 × 0.5) / (2 + 1) = 0.8333…; the unscored one (weight 5) does not count.
    expect(score([result('MET', 1, 2), result('BREACHED', 0.5, 1), result('EXCUSED', null, 5)])).toBe(83.333333333);
    expect(score([result('MET', 1, 1), result('MET', 1, 3)])).toBe(100);
    expect(score([result('NO_DATA', 0, 1), result('NO_DATA', 0, 3)])).toBe(0);
  });

  it('drops float noise: 0.9, 0.8, 0.7 at equal weights is exactly 80', () => {
    expect(score([result('BREACHED', 0.9), result('BREACHED', 0.8), result('BREACHED', 0.7)])).toBe(80);
  });

  it('is null when nothing is scored', () => {
    expect(score([])).toBeNull();
    expect(score([result('EXCUSED', null), result('PENDING', null)])).toBeNull();
  });

  it('refuses attainments outside [0, 1] and negative weights', () => {
    expect(() => score([result('MET', 1.5)])).toThrow('attainment: expected a number from 0 to 1, received 1.5');
    expect(() => score([result('MET', 1, -1)])).toThrow('weight: expected a number from 0, received -1');
  });
});

describe('rule 4: compliance', () => {
  it('counts evaluated, met and breaches; PENDING and EXCUSED count nowhere', () => {
    expect(compliance(['MET', 'AT_RISK', 'BREACHED', 'NO_DATA', 'PENDING', 'EXCUSED'])).toEqual({ evaluated: 4, met: 2, breaches: 2, rate: 0.5 });
    expect(compliance(['MET', 'MET', 'BREACHED'])).toEqual({ evaluated: 3, met: 2, breaches: 1, rate: 2 / 3 });
  });

  it('has a null rate when nothing was evaluated', () => {
    expect(compliance([])).toEqual({ evaluated: 0, met: 0, breaches: 0, rate: null });
    expect(compliance(['PENDING', 'EXCUSED'])).toEqual({ evaluated: 0, met: 0, breaches: 0, rate: null });
  });
});

describe('rule 5: agreement-month status', () => {
  it.each<[ObjectiveStatus[], ObjectiveStatus | null]>([
    [['MET', 'NO_DATA', 'BREACHED', 'AT_RISK'], 'BREACHED'], // a real breach outranks a missing report
    [['NO_DATA', 'AT_RISK', 'MET'], 'NO_DATA'],
    [['AT_RISK', 'MET', 'PENDING', 'EXCUSED'], 'AT_RISK'],
    [['MET', 'PENDING'], 'MET'], // a pending objective does not hide what was evaluated
    [['MET', 'EXCUSED'], 'MET'],
    [['EXCUSED', 'PENDING'], 'PENDING'], // PENDING over EXCUSED
    [['EXCUSED', 'EXCUSED'], 'EXCUSED'],
    [[], null],
  ])('%j → %s', (statuses, expected) => {
    expect(agreementMonthStatus(statuses)).toBe(expected);
  });
});

describe('rule 6: error budget', () => {
  it('allows 1 miss for a 0.9 target over 10, although (1 − 0.9) × 10 is 0.9999999999999998 in floating point', () => {
    expect((1 - 0.9) * 10).toBe(0.9999999999999998);
    expect(Math.floor((1 - 0.9) * 10)).toBe(0); // what a naive floor would say
    expect(errorBudget(0.9, { evaluated: 10, breaches: 0 })).toEqual({ allowed: 1, remaining: 1 });
  });

  it('floors, after removing only float noise', () => {
    expect(errorBudget(0.95, { evaluated: 20, breaches: 1 })).toEqual({ allowed: 1, remaining: 0 }); // 1.0000000000000009
    expect(errorBudget(0.99, { evaluated: 100, breaches: 0 })).toEqual({ allowed: 1, remaining: 1 });
    expect(errorBudget(0.9, { evaluated: 12, breaches: 0 })).toEqual({ allowed: 1, remaining: 1 }); // 1.2 → 1
    expect(errorBudget(0.9, { evaluated: 19, breaches: 0 })).toEqual({ allowed: 1, remaining: 1 }); // 1.9 → 1
    expect(errorBudget(0.90000001, { evaluated: 10, breaches: 0 })).toEqual({ allowed: 0, remaining: 0 }); // 0.9999999 is a real shortfall
    expect(errorBudget(0.7, { evaluated: 10, breaches: 0 })).toEqual({ allowed: 3, remaining: 3 }); // 3.0000000000000004
  });

  it('goes negative once overspent', () => {
    expect(errorBudget(0.9, { evaluated: 10, breaches: 3 })).toEqual({ allowed: 1, remaining: -2 });
  });

  it('allows nothing at a target of 1 and everything at 0', () => {
    expect(errorBudget(1, { evaluated: 12, breaches: 1 })).toEqual({ allowed: 0, remaining: -1 });
    expect(errorBudget(0, { evaluated: 12, breaches: 12 })).toEqual({ allowed: 12, remaining: 0 });
    expect(errorBudget(0.9, { evaluated: 0, breaches: 0 })).toEqual({ allowed: 0, remaining: 0 });
  });

  it('refuses impossible counts and targets', () => {
    expect(() => errorBudget(0.9, { evaluated: 2, breaches: 3 })).toThrow('breaches: expected at most evaluated (2), received 3');
    expect(() => errorBudget(1.5, { evaluated: 2, breaches: 0 })).toThrow('complianceTarget: expected a number from 0 to 1, received 1.5');
    expect(() => errorBudget(0.9, { evaluated: 2.5, breaches: 0 })).toThrow('evaluated: expected a whole number from 0, received 2.5');
  });
});

describe('rule 7: service credit', () => {
  it('sums creditPercent over BREACHED and NO_DATA only, caps it, and prices it', () => {
    const results = [
      result('BREACHED', 0.5, 1, 5),
      result('NO_DATA', 0, 1, 10),
      result('BREACHED', 0.9, 1, 20),
      result('EXCUSED', null, 1, 50),
      result('AT_RISK', 1, 1, 7),
      result('PENDING', null, 1, 7),
      result('MET', 1, 1, 7),
    ];
    expect(serviceCredit(results, 25, 12000)).toEqual({ percent: 25, amount: 3000, uncappedPercent: 35 });
    expect(serviceCredit(results, 100, 12000)).toEqual({ percent: 35, amount: 4200, uncappedPercent: 35 });
  });

  it('is 0 when nothing is breached, and when the cap is 0', () => {
    expect(serviceCredit([result('MET', 1, 1, 10), result('EXCUSED', null, 1, 10)], 20, 5000)).toEqual({ percent: 0, amount: 0, uncappedPercent: 0 });
    expect(serviceCredit([result('BREACHED', 0, 1, 10)], 0, 5000)).toEqual({ percent: 0, amount: 0, uncappedPercent: 10 });
  });

  it('drops float noise in sums', () => {
    expect(serviceCredit([result('BREACHED', 0, 1, 0.1), result('BREACHED', 0, 1, 0.2)], 100, 1000)).toEqual({ percent: 0.3, amount: 3, uncappedPercent: 0.3 });
  });
});

describe('rule 8: trend', () => {
  it('is the least-squares slope in points per month: 80, 85, 90 → +5, IMPROVING', () => {
    expect(
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-02', score: 85 },
        { month: '2026-03', score: 90 },
      ]),
    ).toEqual({ slope: 5, direction: 'IMPROVING' });
  });

  it('is DECLINING below −0.5 and STABLE from −0.5 to +0.5 inclusive', () => {
    expect(
      trend([
        { month: '2026-01', score: 90 },
        { month: '2026-02', score: 85 },
        { month: '2026-03', score: 80 },
      ]),
    ).toEqual({ slope: -5, direction: 'DECLINING' });
    expect(
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-02', score: 80.5 },
      ]),
    ).toEqual({ slope: 0.5, direction: 'STABLE' });
    expect(
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-02', score: 79.5 },
      ]),
    ).toEqual({ slope: -0.5, direction: 'STABLE' });
    expect(
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-02', score: 80.6 },
      ]),
    ).toEqual({ slope: 0.6, direction: 'IMPROVING' });
  });

  it('skips null months but keeps the real month positions', () => {
    // Points (0, 80), (2, 85), (3, 90): slope = 15 / (14/3) = 45/14 = 3.2142857…
    const series = [
      { month: '2026-01', score: 80 },
      { month: '2026-02', score: null },
      { month: '2026-03', score: 85 },
      { month: '2026-04', score: 90 },
    ];
    expect(trend(series)).toEqual({ slope: 3.214285714, direction: 'IMPROVING' });
    // 80 then 90 two months later is +5 a month, not +10.
    expect(
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-02', score: null },
        { month: '2026-03', score: 90 },
      ]).slope,
    ).toBe(5);
  });

  it('ignores input order and counts across year ends', () => {
    expect(
      trend([
        { month: '2026-01', score: 85 },
        { month: '2026-02', score: 90 },
        { month: '2025-12', score: 80 },
      ]),
    ).toEqual({ slope: 5, direction: 'IMPROVING' });
  });

  it('has neither slope nor direction with fewer than two scored months (revised rule 8)', () => {
    expect(trend([])).toEqual({ slope: null, direction: null });
    expect(trend([{ month: '2026-01', score: 80 }])).toEqual({ slope: null, direction: null });
    expect(
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-02', score: null },
      ]),
    ).toEqual({ slope: null, direction: null });
  });

  it('refuses a month given twice', () => {
    expect(() =>
      trend([
        { month: '2026-01', score: 80 },
        { month: '2026-01', score: 90 },
      ]),
    ).toThrow('series[1].month: expected each month at most once, received "2026-01" twice');
  });
});

describe('rule 9: roll-ups pool objective-months', () => {
  it('differs from the average of averages', () => {
    // Agreement A: one objective, met (score 100). Agreement B: three objectives at 0.5 (score 50).
    const a = { objectives: [result('MET', 1)] };
    const b = { objectives: [result('BREACHED', 0.5), result('BREACHED', 0.5), result('BREACHED', 0.5)] };
    const averageOfAverages = ((score(a.objectives) ?? 0) + (score(b.objectives) ?? 0)) / 2;
    expect(averageOfAverages).toBe(75);
    // Pooled: 100 × (1 + 0.5 + 0.5 + 0.5) / 4 = 62.5.
    expect(rollUp([a, b])).toEqual({ score: 62.5, compliance: { evaluated: 4, met: 1, breaches: 3, rate: 0.25 } });
  });

  it('is null and empty for nothing scored', () => {
    expect(rollUp([])).toEqual({ score: null, compliance: { evaluated: 0, met: 0, breaches: 0, rate: null } });
    expect(rollUp([{ objectives: [result('EXCUSED', null)] }]).score).toBeNull();
  });
});

describe('rule 10: baseline suggestion', () => {
  it('is null below 3 values', () => {
    expect(baselineSuggestion([])).toBeNull();
    expect(
      baselineSuggestion([
        { month: '2026-01', value: 10 },
        { month: '2026-02', value: 20 },
      ]),
    ).toBeNull();
  });

  it('uses all of 3 values', () => {
    expect(
      baselineSuggestion([
        { month: '2026-01', value: 30 },
        { month: '2026-02', value: 10 },
        { month: '2026-03', value: 20 },
      ]),
    ).toEqual({
      median: 20,
      p25: 15,
      p75: 25,
      basedOn: 3,
    });
  });

  it('uses 6 values with linear interpolation (numpy default, PERCENTILE.INC)', () => {
    const history = [
      { month: '2026-04', value: 2 },
      { month: '2026-01', value: 5 },
      { month: '2026-06', value: 3 },
      { month: '2026-02', value: 1 },
      { month: '2026-05', value: 6 },
      { month: '2026-03', value: 4 },
    ];
    // Sorted 1..6: h = 5 × 0.25 = 1.25 → 2.25; median 3.5; h = 3.75 → 4.75.
    expect(baselineSuggestion(history)).toEqual({ median: 3.5, p25: 2.25, p75: 4.75, basedOn: 6 });
  });

  it('uses the last 6 of 8 values by month, even when given unsorted', () => {
    const history = [
      { month: '2026-05', value: 3 },
      { month: '2026-01', value: 100 }, // oldest, dropped
      { month: '2026-08', value: 6 },
      { month: '2026-03', value: 1 },
      { month: '2026-02', value: 200 }, // dropped
      { month: '2026-07', value: 5 },
      { month: '2026-04', value: 2 },
      { month: '2026-06', value: 4 },
    ];
    expect(baselineSuggestion(history)).toEqual({ median: 3.5, p25: 2.25, p75: 4.75, basedOn: 6 });
  });

  it('percentile matches numpy on a few known cases', () => {
    expect(percentile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 0.75)).toBe(3.25);
    expect(percentile([7], 0.25)).toBe(7);
    expect(percentile([0.1, 0.2], 0.5)).toBe(0.15); // 0.15000000000000002 before rounding
  });

  it('refuses a month given twice', () => {
    expect(() =>
      baselineSuggestion([
        { month: '2026-01', value: 1 },
        { month: '2026-02', value: 2 },
        { month: '2026-01', value: 3 },
      ]),
    ).toThrow('history[2].month: expected each month at most once, received "2026-01" twice');
  });
});

describe('scoreAgreementMonth', () => {
  // The worked example of docs/scoring.md: Marketing → Sales, March 2026, scored on 20 April.
  const march = month({
    objectives: [
      objective({ target: 400, warning: 440, weight: 2, creditPercent: 10, value: 300 }), // qualified leads: BREACHED, 0.75
      objective({ target: 70, warning: 75, weight: 1, creditPercent: 5, value: 72 }), // accepted %: AT_RISK, 1
      objective({ direction: 'LOWER_IS_BETTER', target: 8, weight: 1, creditPercent: 5, value: 10 }), // first response h: BREACHED, 0.8
      objective({ target: 100, weight: 1, creditPercent: 5, value: null }), // reports on time: NO_DATA, 0
      objective({ target: 95, weight: 1, creditPercent: 10, value: 50, excused: true }), // excused breach
    ],
  });

  it('scores the worked example', () => {
    expect(scoreAgreementMonth(march, LATER)).toEqual({
      month: '2026-03',
      objectives: [
        { status: 'BREACHED', attainment: 0.75, weight: 2, creditPercent: 10 },
        { status: 'AT_RISK', attainment: 1, weight: 1, creditPercent: 5 },
        { status: 'BREACHED', attainment: 0.8, weight: 1, creditPercent: 5 },
        { status: 'NO_DATA', attainment: 0, weight: 1, creditPercent: 5 },
        { status: 'EXCUSED', attainment: null, weight: 1, creditPercent: 10 },
      ],
      score: 66, // 100 × (1.5 + 1 + 0.8 + 0) / 5
      status: 'BREACHED',
      compliance: { evaluated: 4, met: 1, breaches: 3, rate: 0.25 },
      credit: { percent: 15, amount: 1500, uncappedPercent: 20 },
    });
  });

  it('is PENDING before the due date for what has not been reported', () => {
    const r = scoreAgreementMonth(march, BEFORE_DUE);
    expect(r.objectives[3]).toEqual({ status: 'PENDING', attainment: null, weight: 1, creditPercent: 5 });
    expect(r.score).toBe(82.5); // 100 × 3.3 / 4
    expect(r.credit).toEqual({ percent: 15, amount: 1500, uncappedPercent: 15 });
  });

  it('with every objective excused: score null, status EXCUSED, credit 0', () => {
    const r = scoreAgreementMonth(month({ objectives: [objective({ value: 10, excused: true }), objective({ value: null, excused: true })] }), LATER);
    expect(r.score).toBeNull();
    expect(r.status).toBe('EXCUSED');
    expect(r.credit).toEqual({ percent: 0, amount: 0, uncappedPercent: 0 });
    expect(r.compliance).toEqual({ evaluated: 0, met: 0, breaches: 0, rate: null });
  });

  it('with no objectives: status null, score null', () => {
    const r = scoreAgreementMonth(month(), LATER);
    expect(r.status).toBeNull();
    expect(r.score).toBeNull();
  });

  it('says which month and which objective is invalid', () => {
    expect(() => scoreAgreementMonth(month({ objectives: [objective(), objective({ target: 400, warning: 300 })] }), LATER)).toThrow(
      /^2026-03: objectives\[1\]\.warning: expected a number at or above the target 400/,
    );
    expect(() => scoreAgreementMonth(month({ month: '2026-3' }), LATER)).toThrow(/^month: expected a month as "YYYY-MM"/);
    expect(() => scoreAgreementMonth(month({ creditCapPercent: 120 }), LATER)).toThrow('2026-03: creditCapPercent: expected a number from 0 to 100, received 120');
  });
});

describe('scoreAgreementWindow', () => {
  const due = (m: string) => new Date(`${m}-28T00:00:00.000Z`); // any instant after the month
  const single = (m: string, value: number | null, over: Partial<AgreementMonthInput> = {}) =>
    month({ month: m, objectives: [objective({ target: 95, value, dueAt: due(m), monthEndsAt: due(m), creditPercent: 10 })], ...over });

  it('pools, trends and budgets a year', () => {
    // 2025-03 (outside the rolling 12 months of 2026-03) is a breach; inside, two breaches out of 12.
    const months = [
      single('2025-03', 50),
      ...['2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01'].map((m) => single(m, 100)),
      single('2026-02', 90),
      single('2026-03', 76, { complianceTarget: 0.9, monthlyCharge: 2000 }),
    ];
    const r = scoreAgreementWindow([...months].reverse(), LATER);
    expect(r.months.map((m) => m.month)).toEqual(months.map((m) => m.month)); // sorted
    expect(r.compliance).toEqual({ evaluated: 13, met: 10, breaches: 3, rate: 10 / 13 });
    expect(r.errorBudget).toEqual({ month: '2026-03', from: '2025-04', complianceTarget: 0.9, evaluated: 12, breaches: 2, allowed: 1, remaining: -1 });
    expect(r.creditAmount).toBe(1000 + 1000 + 200); // 10 % of 10000, 10000, 2000
    expect(r.trend.direction).toBe('IMPROVING'); // the old 50 weighs more than the recent dip
  });

  it('pools the window rather than averaging month scores', () => {
    const jan = month({ month: '2026-01', objectives: [objective({ value: 100, dueAt: due('2026-01'), monthEndsAt: due('2026-01') })] });
    const feb = month({
      month: '2026-02',
      objectives: [
        objective({ target: 100, value: 50, dueAt: due('2026-02'), monthEndsAt: due('2026-02') }),
        objective({ target: 100, value: 50, dueAt: due('2026-02'), monthEndsAt: due('2026-02') }),
        objective({ target: 100, value: 50, dueAt: due('2026-02'), monthEndsAt: due('2026-02') }),
      ],
    });
    const r = scoreAgreementWindow([jan, feb], LATER);
    expect(r.months.map((m) => m.score)).toEqual([100, 50]); // average of the two: 75
    expect(r.score).toBe(62.5);
    expect(r.trend).toEqual({ slope: -50, direction: 'DECLINING' });
  });

  it('counts a PENDING last month nowhere in the budget', () => {
    const r = scoreAgreementWindow([single('2026-02', 100), month({ month: '2026-03', objectives: [objective({ value: null })] })], BEFORE_DUE);
    expect(r.months[1].status).toBe('PENDING');
    expect(r.errorBudget).toMatchObject({ evaluated: 1, breaches: 0, allowed: 0, remaining: 0 });
    expect(r.trend).toEqual({ slope: null, direction: null });
  });

  it('is empty for no months, and refuses a month given twice', () => {
    expect(scoreAgreementWindow([], LATER)).toEqual({
      months: [],
      score: null,
      compliance: { evaluated: 0, met: 0, breaches: 0, rate: null },
      trend: { slope: null, direction: null },
      errorBudget: null,
      creditAmount: 0,
    });
    expect(() => scoreAgreementWindow([single('2026-01', 1), single('2026-01', 2)], LATER)).toThrow('months[1].month: expected each month at most once, received "2026-01" twice');
  });
});

describe('a known consequence of rules 2 and 3 (documented in docs/scoring.md)', () => {
  it('excusing a breach can lower the score when the breach was better than the rest', () => {
    const base = [objective({ value: null }), objective({ target: 100, value: 90 })]; // NO_DATA (0) and BREACHED (0.9)
    const before = scoreAgreementMonth(month({ objectives: base }), LATER);
    const after = scoreAgreementMonth(month({ objectives: [base[0], { ...base[1], excused: true }] }), LATER);
    expect(before.score).toBe(45);
    expect(after.score).toBe(0);
    // …while compliance and credit still move the provider's way.
    expect(before.compliance.rate).toBe(0);
    expect(after.compliance).toEqual({ evaluated: 1, met: 0, breaches: 1, rate: 0 });
    expect(after.credit.uncappedPercent).toBeLessThan(before.credit.uncappedPercent);
  });
});
