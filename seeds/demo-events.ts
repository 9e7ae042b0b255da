import type { EntityManager } from '@mikro-orm/core';
import { type AnyEventInput, DomainEvent, emitEvents, type EventInput, type EventType } from '../src/common/events';
import { Agreement, Amendment, AmendmentStatus, Tier } from '../src/modules/agreements/agreement.entity';
import { addMonths, monthOf } from '../src/common/month';
import { Metric } from '../src/modules/catalog/metric.entity';
import { Department } from '../src/modules/departments/department.entity';
import { Escalation } from '../src/modules/escalations/escalation.entity';
import { Exclusion, Report, ReportRevision } from '../src/modules/reports/report.entity';

type AnyEvent = AnyEventInput;

const DAY = 24 * 3_600_000;

/**
 * Two proposals awaiting the other party on a fresh demo, so heads find something to decide:
 * IT offers Marketing a faster first response, Customer Service asks Sales for faster handovers,
 * both from next month and proposed yesterday. Proposals change no version until approved, so the
 * scores are the same. Idempotent: skipped once the seed has proposed anything still pending.
 */
export async function seedDemoProposals(em: EntityManager, now: Date): Promise<void> {
  if (await em.count(Amendment, { proposedByUserId: 'seed', status: AmendmentStatus.PROPOSED })) return;
  const agreements = new Map((await em.find(Agreement, { key: { $in: ['IT-MKT', 'SALES-CS'] } })).map((a) => [a.key, a]));
  const metrics = new Map((await em.find(Metric, { code: { $in: ['TICKET_FIRST_RESPONSE', 'HANDOVER_DAYS'] } })).map((m) => [m.code, m]));
  const proposedAt = new Date(now.getTime() - DAY);
  const cases = [
    { key: 'IT-MKT', side: 'PROVIDER', metric: 'TICKET_FIRST_RESPONSE', target: 6, warning: 5, reason: 'IT staffed a second service desk shift: first response within 6 hours' },
    { key: 'SALES-CS', side: 'CUSTOMER', metric: 'HANDOVER_DAYS', target: 1.5, warning: 1, reason: 'Customer Service needs handovers within a day and a half for the new onboarding flow' },
  ] as const;
  for (const c of cases) {
    const agreement = agreements.get(c.key);
    const metric = metrics.get(c.metric);
    if (!agreement || !metric) continue;
    em.create(Amendment, {
      agreement,
      status: AmendmentStatus.PROPOSED,
      effectiveMonth: addMonths(monthOf(now), 1),
      reason: c.reason,
      proposedBy: c.side,
      proposedByUserId: 'seed',
      changes: { terms: {}, addObjectives: [], changeObjectives: [{ metricId: metric.id, target: c.target, warning: c.warning }], removeObjectives: [] },
      providerApprovedAt: c.side === 'PROVIDER' ? proposedAt : null,
      customerApprovedAt: c.side === 'CUSTOMER' ? proposedAt : null,
      createdAt: proposedAt,
    });
  }
  await em.flush();
}

/**
 * The domain events the demo's seeded history would have written (issue 15: the demo's heads have
 * an inbox on a fresh start): agreements drafted and activated, every report revision submitted,
 * disputed and acknowledged, the exclusions requested and decided, the mid-year amendment, and
 * the escalations opened, acknowledged and resolved, each at its historical instant, oldest first, through
 * {@link emitEvents}. The seeder writes its rows directly, so no service emitted them. Written
 * before the ledger is built (whose first closes emit `month.closed`). Skipped once any exists.
 *
 * Only events up to `now`: the seeded history never lies in the future. The actor is the system
 * (the seed), as in the audit log.
 */
export async function seedDemoEvents(em: EntityManager, now: Date): Promise<void> {
  if (await em.count(DomainEvent, {})) return;
  const agreements = await em.find(Agreement, {}, { orderBy: { key: 'asc' } });
  if (!agreements.length) return;
  const byId = new Map(agreements.map((a) => [a.id, a]));
  const codes = new Map((await em.find(Department, {})).map((d) => [d.id, d.code]));
  const events: AnyEvent[] = [];
  const push = <T extends EventType>(event: EventInput<T>) => events.push(event as unknown as AnyEvent);

  for (const a of agreements) {
    if (!a.activatedAt) continue;
    push({
      type: 'agreement.awaiting_approval',
      occurredAt: a.createdAt < a.activatedAt ? a.createdAt : a.activatedAt,
      agreement: a,
      payload: {
        status: 'DRAFT',
        tier: a.tier,
        title: a.title,
        providerCode: a.provider ? (codes.get(a.provider.id) ?? null) : null,
        customerCode: a.customer ? (codes.get(a.customer.id) ?? null) : null,
      },
    });
    push({ type: 'agreement.activated', occurredAt: a.activatedAt, agreement: a, payload: { statusBefore: 'DRAFT', statusAfter: 'ACTIVE' } });
  }

  const reports = await em.find(Report, { agreement: { $in: agreements.filter((a) => a.tier !== Tier.CORPORATE).map((a) => a.id) } });
  const reportById = new Map(reports.map((r) => [r.id, r]));
  const revisions = reports.length ? await em.find(ReportRevision, { report: { $in: reports.map((r) => r.id) } }, { orderBy: { number: 'asc' } }) : [];
  for (const rev of revisions) {
    const report = reportById.get(rev.report.id) as Report;
    const agreement = byId.get(report.agreement.id) as Agreement;
    const base = { reportId: report.id, month: report.month, revision: rev.number };
    push({
      type: 'report.submitted',
      occurredAt: rev.submittedAt,
      agreement,
      payload: {
        ...base,
        statusBefore: rev.number === 1 ? null : 'DISPUTED',
        statusAfter: 'SUBMITTED',
        revisionId: rev.id,
        correction: rev.number > 1,
        lateByWorkingDays: rev.number === 1 ? (report.lateByWorkingDays ?? 0) : 0,
      },
    });
    if (rev.disputedAt) {
      push({ type: 'report.disputed', occurredAt: rev.disputedAt, agreement, payload: { ...base, statusBefore: 'SUBMITTED', statusAfter: 'DISPUTED', reason: rev.disputeReason ?? '' } });
    }
    if (rev.acknowledgedAt) {
      push({ type: 'report.acknowledged', occurredAt: rev.acknowledgedAt, agreement, payload: { ...base, statusBefore: 'SUBMITTED', statusAfter: 'ACKNOWLEDGED' } });
    }
  }

  const exclusions = await em.find(Exclusion, { agreement: { $in: agreements.map((a) => a.id) } }, { populate: ['metric'] });
  for (const x of exclusions) {
    const agreement = byId.get(x.agreement.id) as Agreement;
    push({
      type: 'exclusion.requested',
      occurredAt: x.createdAt,
      agreement,
      payload: {
        exclusionId: x.id,
        month: x.month,
        objectiveId: x.objective.id,
        metricCode: x.metric.getEntity().code,
        reasonCode: x.reasonCode,
        statusWhenRequested: x.statusWhenRequested,
        status: 'REQUESTED',
      },
    });
    if (x.decidedAt && (x.status === 'APPROVED' || x.status === 'REJECTED')) {
      push({
        type: 'exclusion.decided',
        occurredAt: x.decidedAt,
        agreement,
        payload: { exclusionId: x.id, month: x.month, objectiveId: x.objective.id, statusBefore: 'REQUESTED', statusAfter: x.status, note: x.decisionNote ?? null },
      });
    }
  }

  const amendments = await em.find(Amendment, { agreement: { $in: agreements.map((a) => a.id) } });
  for (const m of amendments) {
    const agreement = byId.get(m.agreement.id) as Agreement;
    const proposedAt = m.providerApprovedAt ?? m.customerApprovedAt ?? m.createdAt;
    push({
      type: 'amendment.proposed',
      occurredAt: proposedAt,
      agreement,
      payload: { amendmentId: m.id, effectiveMonth: m.effectiveMonth, proposedBy: m.proposedBy, reason: m.reason, status: 'PROPOSED' },
    });
    if (m.decidedAt && m.status !== AmendmentStatus.PROPOSED) {
      push({
        type: 'amendment.decided',
        occurredAt: m.decidedAt,
        agreement,
        payload: { amendmentId: m.id, effectiveMonth: m.effectiveMonth, statusBefore: 'PROPOSED', statusAfter: m.status as 'APPROVED' | 'REJECTED' | 'WITHDRAWN', reason: m.rejectionReason ?? null },
      });
    }
  }

  const escalations = await em.find(Escalation, { agreement: { $in: agreements.map((a) => a.id) } });
  for (const e of escalations) {
    const agreement = byId.get(e.agreement.id) as Agreement;
    push({ type: 'escalation.opened', occurredAt: e.openedAt, agreement, payload: { escalationId: e.id, month: e.month, severity: e.severity, title: e.title, status: 'OPEN' } });
    if (e.acknowledgedAt) {
      push({
        type: 'escalation.acknowledged',
        occurredAt: e.acknowledgedAt,
        agreement,
        payload: { escalationId: e.id, month: e.month, severity: e.severity, statusBefore: 'OPEN', statusAfter: 'ACKNOWLEDGED' },
      });
    }
    if (e.resolvedAt) {
      push({
        type: 'escalation.resolved',
        occurredAt: e.resolvedAt,
        agreement,
        payload: { escalationId: e.id, month: e.month, severity: e.severity, statusBefore: 'ACKNOWLEDGED', statusAfter: 'RESOLVED' },
      });
    }
  }

  // Oldest first (the outbox order is the history's order); ties keep the order above.
  const ordered = events
    .filter((e) => e.occurredAt.getTime() <= now.getTime())
    .map((e, i) => ({ e, i }))
    .sort((x, y) => x.e.occurredAt.getTime() - y.e.occurredAt.getTime() || x.i - y.i)
    .map(({ e }) => e);
  await emitEvents(em, ordered);
}
