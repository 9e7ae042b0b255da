/**
 * The score ledger's pure rules (src/scoring/ledger.ts, DESIGN §5 month close, §8): when a stored
 * agreement-month closes, until when a stored evaluation holds, and what its inputs evaluate to at
 * an instant. Hand-computed on one month, March 2026 in UTC: it ends at 1 April 00:00, its report
 * is due at 8 April 00:00 (the due instant: PENDING up to and including it, NO_DATA just after).
 */
import { describe, expect, it } from 'vitest';
import { closeInstant, evaluateLedgerMonth, type LedgerMonthInput, type LedgerReportState, phaseAt, validUntil } from '../../src/scoring/ledger';

const t = (iso: string) => new Date(iso);
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms);
const ENDS = '2026-04-01T00:00:00.000Z';
const DUE = '2026-04-08T00:00:00.000Z';

/*
 * OPS, March: charge 10,000, cap 8 %.
 *   SYSTEM_AVAILABILITY ≥ 99.5 (warning 99.8, weight 3, credit 5 %): 99.0 → BREACHED, a = 99 / 99.5.
 *   MTTR ≤ 4 (weight 1, credit 4 %): no value → PENDING up to the due instant, NO_DATA after, a = 0.
 *   After the due instant: score 100 × 3 × 0.994974874… / 4 = 74.623115578; credit 5 + 4 = 9 %,
 *   capped at 8 % = 800.
 */
function month(over: Partial<LedgerMonthInput> = {}): LedgerMonthInput {
  return {
    month: '2026-03',
    complianceTarget: 0.9,
    creditCapPercent: 8,
    monthlyCharge: 10_000,
    dueAt: t(DUE),
    monthEndsAt: t(ENDS),
    hasManual: true,
    report: null,
    objectives: [
      { objectiveId: 'avail', direction: 'HIGHER_IS_BETTER', target: 99.5, warning: 99.8, weight: 3, creditPercent: 5, value: 99, excused: false },
      { objectiveId: 'mttr', direction: 'LOWER_IS_BETTER', target: 4, warning: null, weight: 1, creditPercent: 4, value: null, excused: false },
    ],
    valueChanges: [],
    ...over,
  };
}

const report = (over: Partial<LedgerReportState>): LedgerReportState => ({ status: 'SUBMITTED', acknowledgedAt: null, acceptanceDueAt: null, deemed: false, ...over });

describe('closeInstant (DESIGN §5 month close)', () => {
  it('closes a month with no MANUAL objective just after its due instant', () => {
    expect(closeInstant(month({ hasManual: false }))).toEqual(plus(DUE, 1));
    // …never before the month ends (a due instant inside the month is not one to close at).
    expect(closeInstant(month({ hasManual: false, dueAt: t('2026-03-20T00:00:00Z') }))).toEqual(t(ENDS));
  });

  it('leaves a month with MANUAL objectives and no report open (NO_DATA until one is acknowledged)', () => {
    expect(closeInstant(month())).toBeNull();
  });

  it('closes at the acknowledgement itself, and just after the window when the acknowledgement was deemed', () => {
    expect(closeInstant(month({ report: report({ status: 'ACKNOWLEDGED', acknowledgedAt: t('2026-04-09T10:00:00Z') }) }))).toEqual(t('2026-04-09T10:00:00Z'));
    // Deemed: recorded at the window's last instant, effective 1 ms later (a verdict at the last instant still counted).
    expect(closeInstant(month({ report: report({ status: 'ACKNOWLEDGED', acknowledgedAt: t('2026-04-10T17:00:00Z'), acceptanceDueAt: t('2026-04-10T17:00:00Z'), deemed: true }) }))).toEqual(
      t('2026-04-10T17:00:00.001Z'),
    );
    // Acknowledged before the report fell due: the month closes just after the due instant, so
    // automation can still send the month's data and nothing value-less is frozen PENDING.
    expect(closeInstant(month({ report: report({ status: 'ACKNOWLEDGED', acknowledgedAt: t('2026-04-03T10:00:00Z') }) }))).toEqual(plus(DUE, 1));
    // An acknowledged state without its instant closes when it falls due.
    expect(closeInstant(month({ report: report({ status: 'ACKNOWLEDGED' }) }))).toEqual(plus(DUE, 1));
  });

  it('closes a SUBMITTED revision just after its acceptance window (silence is acknowledgement), and never a disputed one', () => {
    expect(closeInstant(month({ report: report({ acceptanceDueAt: t('2026-04-10T17:00:00Z') }) }))).toEqual(t('2026-04-10T17:00:00.001Z'));
    expect(closeInstant(month({ report: report({}) }))).toBeNull();
    expect(closeInstant(month({ report: report({ status: 'DISPUTED', acceptanceDueAt: t('2026-04-10T17:00:00Z') }) }))).toBeNull();
    // A disputed month with no MANUAL objective is impossible in practice; the due rule decides.
    expect(closeInstant(month({ hasManual: false, report: report({ status: 'DISPUTED' }) }))).toEqual(plus(DUE, 1));
  });

  it('is never before the month ends and falls due, and not before a reopening', () => {
    expect(closeInstant(month({ report: report({ status: 'ACKNOWLEDGED', acknowledgedAt: t('2026-03-30T00:00:00Z') }) }))).toEqual(plus(DUE, 1));
    const reopened = t('2026-05-02T08:00:00Z');
    expect(closeInstant(month({ report: report({ status: 'ACKNOWLEDGED', acknowledgedAt: t('2026-04-03T10:00:00Z') }) }), reopened)).toEqual(reopened);
    expect(closeInstant(month({ hasManual: false }), reopened)).toEqual(reopened);
    // A reopening before the close instant does not move it; and it never opens a month that has no close instant.
    expect(closeInstant(month({ hasManual: false }), t('2026-04-02T00:00:00Z'))).toEqual(plus(DUE, 1));
    expect(closeInstant(month(), reopened)).toBeNull();
  });
});

describe('validUntil (when a stored evaluation stops holding)', () => {
  it('holds a running month until it ends', () => {
    expect(validUntil(month(), t('2026-03-15T00:00:00Z'))).toEqual(t(ENDS));
    expect(validUntil(month(), plus(ENDS, -1))).toEqual(t(ENDS));
  });

  it('holds an ended month with no report until just after its due instant, then for ever', () => {
    expect(validUntil(month(), t(ENDS))).toEqual(plus(DUE, 1));
    expect(validUntil(month(), t(DUE))).toEqual(plus(DUE, 1));
    expect(validUntil(month(), plus(DUE, 1))).toBeNull();
  });

  it('stops at the close instant: the end of the acceptance window, or an acknowledgement', () => {
    const submitted = month({ report: report({ acceptanceDueAt: t('2026-04-03T17:00:00Z') }) });
    // The window ends before the due instant: the evaluation holds until just after the due instant, when the month closes.
    expect(validUntil(submitted, t('2026-04-02T00:00:00Z'))).toEqual(plus(DUE, 1));
    expect(closeInstant(submitted)).toEqual(plus(DUE, 1));
    const late = month({ report: report({ acceptanceDueAt: t('2026-04-14T17:00:00Z') }) });
    expect(validUntil(late, t('2026-04-02T00:00:00Z'))).toEqual(plus(DUE, 1));
    expect(validUntil(late, plus(DUE, 1))).toEqual(t('2026-04-14T17:00:00.001Z'));
    expect(validUntil(late, t('2026-04-14T17:00:00.001Z'))).toBeNull();
    const auto = month({ hasManual: false });
    // With no MANUAL objective the due instant and the close coincide (1 ms after the due instant).
    expect(validUntil(auto, t(ENDS))).toEqual(plus(DUE, 1));
    expect(validUntil(auto, plus(DUE, 1))).toBeNull();
    // A reopening moves the close, and with it the validity.
    expect(validUntil(auto, plus(DUE, 1), t('2026-05-02T08:00:00Z'))).toEqual(t('2026-05-02T08:00:00Z'));
  });

  it('stops just after an instant at which a value changes by time (an unanswered escalation missing its deadline)', () => {
    const m = month({ hasManual: false, valueChanges: [t('2026-03-20T11:00:00Z'), t('2026-04-02T09:00:00Z')] });
    expect(validUntil(m, t('2026-03-10T00:00:00Z'))).toEqual(t('2026-03-20T11:00:00.001Z'));
    expect(validUntil(m, t('2026-03-20T11:00:00.001Z'))).toEqual(t(ENDS));
    expect(validUntil(m, t(ENDS))).toEqual(t('2026-04-02T09:00:00.001Z'));
    expect(validUntil(m, t('2026-04-02T09:00:00.001Z'))).toEqual(plus(DUE, 1));
  });
});

describe('evaluateLedgerMonth (rules 0 to 7 on stored inputs)', () => {
  it('scores nothing and credits nothing before the month ends (rule 0)', () => {
    for (const at of ['2026-03-01T00:00:00Z', '2026-03-31T23:59:59.999Z']) {
      const r = evaluateLedgerMonth(month(), t(at));
      expect(r.objectives.map((o) => [o.status, o.attainment])).toEqual([
        ['PENDING', null],
        ['PENDING', null],
      ]);
      expect(r).toMatchObject({ status: 'PENDING', score: null, compliance: { evaluated: 0, met: 0, breaches: 0, rate: null }, credit: { percent: 0, amount: 0, uncappedPercent: 0 } });
    }
    expect(phaseAt(month(), plus(ENDS, -1))).toBe('RUNNING');
    expect(phaseAt(month(), t(ENDS))).toBe('ENDED');
  });

  it('scores the reported value once the month ended, and leaves the missing one PENDING up to the due instant', () => {
    const r = evaluateLedgerMonth(month(), t(DUE));
    expect(r.objectives.map((o) => o.status)).toEqual(['BREACHED', 'PENDING']);
    expect(r.objectives[0].attainment).toBeCloseTo(99 / 99.5, 15);
    expect(r.score).toBeCloseTo((100 * 3 * (99 / 99.5)) / 3, 9);
    expect(r.status).toBe('BREACHED');
    expect(r.credit).toEqual({ percent: 5, amount: 500, uncappedPercent: 5 });
  });

  it('counts the missing value as NO_DATA just after the due instant, and caps the credit', () => {
    const r = evaluateLedgerMonth(month(), plus(DUE, 1));
    expect(r.objectives.map((o) => [o.status, o.attainment])).toEqual([
      ['BREACHED', 99 / 99.5],
      ['NO_DATA', 0],
    ]);
    expect(r.score).toBeCloseTo(74.623115578, 9);
    expect(r.compliance).toEqual({ evaluated: 2, met: 0, breaches: 2, rate: 0 });
    expect(r.credit).toEqual({ percent: 8, amount: 800, uncappedPercent: 9 });
  });

  it('excuses an objective (no attainment, no credit) and reads warnings (AT_RISK)', () => {
    const m = month();
    const r = evaluateLedgerMonth(
      {
        ...m,
        objectives: [
          { ...m.objectives[0], value: 99.7 },
          { ...m.objectives[1], excused: true },
        ],
      },
      plus(DUE, 1),
    );
    expect(r.objectives.map((o) => [o.status, o.attainment])).toEqual([
      ['AT_RISK', 1],
      ['EXCUSED', null],
    ]);
    expect(r).toMatchObject({ status: 'AT_RISK', score: 100, credit: { percent: 0, amount: 0, uncappedPercent: 0 }, compliance: { evaluated: 1, met: 1, breaches: 0, rate: 1 } });
  });

  it('freezes what the inputs evaluate to at the close instant: acknowledged early, it closes after the due instant with the missing value NO_DATA', () => {
    const m = month({ report: report({ status: 'ACKNOWLEDGED', acknowledgedAt: t('2026-04-03T10:00:00Z') }) });
    const at = closeInstant(m) as Date;
    expect(at).toEqual(plus(DUE, 1));
    const r = evaluateLedgerMonth(m, at);
    expect(r.objectives.map((o) => o.status)).toEqual(['BREACHED', 'NO_DATA']);
    expect(r.credit).toEqual({ percent: 8, amount: 800, uncappedPercent: 9 });
    // The stored inputs alone decide: a copy evaluates the same.
    expect(evaluateLedgerMonth(structuredClone(m), new Date(at.getTime()))).toEqual(r);
  });
});
