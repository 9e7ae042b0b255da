import { type EntityManager, ref } from '@mikro-orm/core';
import { addMonths, monthOf, monthRange, type Month } from '../src/common/month';
import { endOfLocalDay, nthWorkingDayAfter, workingDaysLate } from '../src/common/working-time';
import { createLoaders } from '../src/db/request-loaders';
import { Agreement, AgreementVersion } from '../src/modules/agreements/agreement.entity';
import { versionAt } from '../src/modules/agreements/agreement.rules';
import { acceptanceDueFor } from '../src/modules/reports/report.service';
import { MetricSource } from '../src/modules/catalog/metric.entity';
import { Exclusion, ExclusionReason, ExclusionStatus, FrictionCategory, type FrictionItem, Report, ReportRevision, ReportStatus, ReportValue } from '../src/modules/reports/report.entity';
import { Severity } from '../src/common/severity';
import { dueFor, objectivesAt, type MonthObjective } from '../src/modules/reports/report.service';
import { random } from './random';

const HOUR = 3_600_000;

/** The reported demo agreements (IT-SALES is a container: its CRM agreement reports). */
const REPORTED = ['MKT-SALES', 'SALES-CS', 'IT-SALES-CRM', 'IT-MKT', 'FIN-SALES'];

/**
 * Values by agreement, metric and month index (0 = the first of the twelve months): a normal
 * range on the safe side of the target, and the months that are special.
 */
const PLAN: Record<string, Record<string, { normal: [number, number]; special?: Record<number, number>; decimals: number }>> = {
  'SALES-CS': {
    HANDOVER_DAYS: { normal: [0.9, 1.4], special: { 2: 2.6, 7: 1.8 }, decimals: 1 },
  },
  'IT-SALES-CRM': {
    MTTR: { normal: [1.5, 2.8], special: { 10: 5.2 }, decimals: 1 },
  },
  'IT-MKT': { TICKET_FIRST_RESPONSE: { normal: [3, 5.5], special: { 6: 9.5 }, decimals: 1 } },
  'FIN-SALES': { STATEMENT_ACCURACY: { normal: [99.2, 99.9], special: { 5: 97.1 }, decimals: 1 } },
};

/** Month index of the one report submitted late (IT → Marketing), three working days after the due date. */
const LATE = { key: 'IT-MKT', month: 3, workingDays: 3 };
/** Month index of the report disputed by Customer Service and corrected by Sales. */
const DISPUTED = { key: 'SALES-CS', month: 5, first: 1.2, corrected: 1.9 };
/** Month index of the report Finance never sent (NO_DATA, and overdue). */
const MISSING = { key: 'FIN-SALES', month: 9 };

/** A small deterministic generator, so every seeding of a month gives the same demo. */
const FRICTION: FrictionItem[] = [
  { category: FrictionCategory.ONBOARDING, description: 'Welcome pack sent after the first invoice', customersAffected: 7, severity: Severity.MEDIUM },
  { category: FrictionCategory.HANDOVER, description: 'Contract terms missing from the CRM record at handover', customersAffected: 3, severity: Severity.HIGH },
  { category: FrictionCategory.BILLING, description: 'Invoice address taken from the lead, not the contract', customersAffected: 5, severity: Severity.LOW },
  { category: FrictionCategory.COMMUNICATION, description: 'Customers asked twice for the same documents', customersAffected: 11, severity: Severity.MEDIUM },
];

/**
 * Seeds twelve months of demo reports (the months before `now`'s) for the demo agreements: most
 * submitted two working days before the due date and acknowledged, one submitted late, one
 * disputed and corrected, one never sent, the last month's still awaiting acknowledgement; and
 * two exclusions (one approved, one rejected). Idempotent: skipped once any demo report exists.
 */
export async function seedDemoReports(em: EntityManager, now = new Date()): Promise<void> {
  const agreements = await em.find(Agreement, { key: { $in: REPORTED } }, { orderBy: { key: 'asc' } });
  if (!agreements.length || (await em.count(Report, { agreement: { $in: agreements.map((a) => a.id) } }))) return;
  const months = monthRange(addMonths(monthOf(now), -12), addMonths(monthOf(now), -1));
  const loaders = { loaders: createLoaders(em) };
  for (const agreement of agreements) {
    const versions = await em.find(AgreementVersion, { agreement: agreement.id });
    for (const [index, month] of months.entries()) {
      if (agreement.key === MISSING.key && index === MISSING.month) continue;
      const version = versionAt(versions, month);
      if (!version) continue;
      const inForce = await objectivesAt(loaders, agreement, month);
      const objectives = inForce.filter((o) => o.metric.source === MetricSource.MANUAL);
      // A friction objective (FRICTION_REPORT_DELIVERED, AUTOMATED) asks for friction items.
      const friction = inForce.some((o) => o.metric.collectsFrictionItems);
      const due = dueFor(agreement, version, month);
      // On time: 62 hours before the due date ends (never after `now`); late: on the third working
      // day after the due date, at 10:00 Berlin.
      const submittedAt =
        agreement.key === LATE.key && index === LATE.month
          ? new Date(endOfLocalDay(version.calendar, nthWorkingDayAfter(version.calendar, due.dueDate, LATE.workingDays)).getTime() - 14 * HOUR)
          : new Date(Math.min(due.dueAt.getTime() - 62 * HOUR, now.getTime() - HOUR));
      const report = em.create(Report, {
        agreement,
        month,
        status: ReportStatus.SUBMITTED,
        firstSubmittedAt: submittedAt,
        lateByWorkingDays: workingDaysLate(version.calendar, due.dueDate, submittedAt),
      });
      const values = valuesFor(agreement.key, month, index, objectives);
      const last = index === months.length - 1;
      if (agreement.key === DISPUTED.key && index === DISPUTED.month) {
        const first = revision(em, report, version, 1, submittedAt, withHandover(values, DISPUTED.first), `${month}: all handovers within two days.`, month, friction);
        first.disputedAt = new Date(submittedAt.getTime() + 26 * HOUR);
        first.disputeReason = 'Three handovers in week 2 took three days; the CRM timestamps show it.';
        first.decidedByUserId = 'seed';
        const second = revision(
          em,
          report,
          version,
          2,
          new Date(submittedAt.getTime() + 50 * HOUR),
          withHandover(values, DISPUTED.corrected),
          `${month}: corrected after the dispute; three handovers in week 2 took three days.`,
          month,
          friction,
        );
        acknowledge(report, second, now);
      } else {
        const r = revision(em, report, version, 1, submittedAt, values, narrativeFor(agreement.key, month, index), month, friction);
        if (!last) acknowledge(report, r, now);
      }
    }
  }
  await em.flush();
  await seedExclusions(em, agreements, months, loaders);
}

function valuesFor(key: string, month: Month, index: number, objectives: MonthObjective[]): Array<{ objective: MonthObjective; value: number }> {
  const next = random(`${key}|${month}`);
  return objectives.map((objective) => {
    const plan = PLAN[key]?.[objective.metric.code];
    if (!plan) return { objective, value: objective.objective.target };
    const special = plan.special?.[index];
    const [lo, hi] = plan.normal;
    const value = special ?? Number((lo + (hi - lo) * next()).toFixed(plan.decimals));
    return { objective, value };
  });
}

function withHandover(values: Array<{ objective: MonthObjective; value: number }>, handover: number) {
  return values.map((v) => (v.objective.metric.code === 'HANDOVER_DAYS' ? { ...v, value: handover } : v));
}

function narrativeFor(key: string, month: Month, index: number): string {
  const special = Object.entries(PLAN[key] ?? {})
    .filter(([, p]) => p.special?.[index] !== undefined)
    .map(([code]) => code);
  return special.length ? `${month}: ${special.join(' and ')} off target; see the notes attached to the objectives.` : `${month}: a normal month; every objective on target.`;
}

function revision(
  em: EntityManager,
  report: Report,
  version: AgreementVersion,
  number: number,
  submittedAt: Date,
  values: Array<{ objective: MonthObjective; value: number }>,
  narrative: string,
  month: Month,
  friction: boolean,
): ReportRevision {
  const next = random(`friction|${month}`);
  // Some of the items each month, never none: a friction report is delivered with its items.
  const picked = FRICTION.filter(() => next() < 0.5);
  const r = em.create(ReportRevision, {
    report,
    number,
    narrative,
    frictionItems: friction ? (picked.length ? picked : [FRICTION[Number(month.slice(5)) % FRICTION.length]]) : [],
    submittedAt,
    submittedByUserId: 'seed',
    acceptanceDueAt: acceptanceDueFor(version, submittedAt),
  });
  values.forEach((v, position) => em.create(ReportValue, { revision: r, objective: v.objective.objective, metric: v.objective.metric, position, value: v.value }));
  report.revisionCount = number;
  report.latestRevision = ref(r);
  report.status = ReportStatus.SUBMITTED;
  return r;
}

function acknowledge(report: Report, revision: ReportRevision, now: Date): void {
  report.status = ReportStatus.ACKNOWLEDGED;
  revision.acknowledgedAt = new Date(Math.min(revision.submittedAt.getTime() + 48 * HOUR, now.getTime()));
  revision.decidedByUserId = 'seed';
}

/** The CRM's upgrade window excused (approved); a Sales handover breach not excused (rejected). */
async function seedExclusions(em: EntityManager, agreements: Agreement[], months: Month[], ctx: { loaders: ReturnType<typeof createLoaders> }): Promise<void> {
  const cases = [
    {
      key: 'IT-SALES-CRM',
      metric: 'SYSTEM_AVAILABILITY',
      month: 8,
      reason: ExclusionReason.PLANNED_MAINTENANCE,
      explanation: 'CRM upgrade window of six hours, agreed with Sales two weeks ahead.',
      evidenceUrl: 'https://wiki.demo.example/it/crm-upgrade',
      status: ExclusionStatus.APPROVED,
      note: 'Agreed in the change advisory board.',
    },
    {
      key: 'SALES-CS',
      metric: 'HANDOVER_DAYS',
      month: 2,
      reason: ExclusionReason.CUSTOMER_DEPENDENCY,
      explanation: 'Customer Service asked to hold handovers during its team offsite.',
      evidenceUrl: null,
      status: ExclusionStatus.REJECTED,
      note: 'The offsite covered two days; the delays lasted the whole month.',
    },
  ];
  for (const c of cases) {
    const agreement = agreements.find((a) => a.key === c.key);
    if (!agreement) continue;
    const month = months[c.month];
    const objective = (await objectivesAt(ctx, agreement, month)).find((o) => o.metric.code === c.metric);
    if (!objective) continue;
    const requestedAt = new Date(`${addMonths(month, 1)}-20T09:00:00Z`);
    em.create(Exclusion, {
      agreement,
      month,
      objective: objective.objective,
      metric: objective.metric,
      status: c.status,
      reasonCode: c.reason,
      explanation: c.explanation,
      evidenceUrl: c.evidenceUrl,
      statusWhenRequested: 'BREACHED',
      requestedByUserId: 'seed',
      decidedAt: new Date(requestedAt.getTime() + 3 * 24 * HOUR),
      decidedByUserId: 'seed',
      decisionNote: c.note,
      createdAt: requestedAt,
    });
  }
  await em.flush();
}
