/**
 * What awaits a principal now (issue 15 point 2, `actionItems`): computed from the current state,
 * never from events, with a fixed number of statements whatever the number of agreements. Who an
 * item belongs to is the policy's answer (`may`): the party whose call it is, with the action it
 * would take; admins get the calls only admins make (settling disputes, approving CORPORATE
 * drafts, deciding requests on CORPORATE agreements), not every call they could take over.
 */
import type { EntityManager } from '@mikro-orm/core';
import { groupBy } from '../../common/collections';
import { compareMonths, monthOf, monthRange, type Month } from '../../common/month';
import { type Action, ACTIONS, type ActingSide, type Actor, may, type PolicyObjects, rolesFor, sideIn } from '../../common/policy';
import { Role } from '../../common/role';
import { monthEndsAt } from '../../common/working-time';
import { Agreement, AgreementStatus, AgreementVersion, Amendment, AmendmentStatus } from '../agreements/agreement.entity';
import { agreementParties, versionAt } from '../agreements/agreement.rules';
import { AgreementLifecycleRequest, LifecycleRequestStatus } from '../agreements/lifecycle.entity';
import { Escalation, EscalationStatus } from '../escalations/escalation.entity';
import { deadline } from '../escalations/escalation.service';
import { MonthReopening, ReopeningStatus } from '../ledger/ledger.entity';
import { Exclusion, ExclusionStatus, Report, ReportRevision, ReportStatus } from '../reports/report.entity';
import { dueFor, reportStatusAt } from '../reports/report.service';
import { measuredInMonth } from '../../scoring/measured';
import { monthName } from './summary';

/** The kinds of action item, in the order a list shows them. */
export enum ActionKind {
  APPROVE_AGREEMENT = 'APPROVE_AGREEMENT',
  DECIDE_AMENDMENT = 'DECIDE_AMENDMENT',
  DECIDE_LIFECYCLE_REQUEST = 'DECIDE_LIFECYCLE_REQUEST',
  SUBMIT_REPORT = 'SUBMIT_REPORT',
  ACKNOWLEDGE_REPORT = 'ACKNOWLEDGE_REPORT',
  CORRECT_REPORT = 'CORRECT_REPORT',
  SETTLE_DISPUTE = 'SETTLE_DISPUTE',
  DECIDE_EXCLUSION = 'DECIDE_EXCLUSION',
  DECIDE_REOPENING = 'DECIDE_REOPENING',
  ANSWER_ESCALATION = 'ANSWER_ESCALATION',
}

/** One thing awaiting the principal. */
export interface ActionItemValue {
  kind: ActionKind;
  agreementId: string;
  agreementKey: string;
  month: Month | null;
  deadline: Date | null;
  overdue: boolean;
  /** The object to act on: the agreement, amendment, report revision, exclusion, reopening or escalation. */
  referenceId: string;
  title: string;
}

/** Whether `actor` is the one `action` awaits: the side whose call it is, or an admin where only admins decide. */
function awaits<A extends Action>(actor: Actor, action: A, object: PolicyObjects[A], side: ActingSide): boolean {
  if (!may(actor, action, object)) return false;
  if (actor.role === Role.ADMIN) return side === 'ADMIN';
  return side !== 'ADMIN' && sideIn(actor, object as PolicyObjects['agreement:approve']) === side;
}

/** The side a request is decided by: the other party; both when an admin asked (either approves); admins when there are no parties. */
function decidingSides(requestedBy: string, parties: { providerId: string | null; customerId: string | null }): ActingSide[] {
  if (!parties.providerId && !parties.customerId) return ['ADMIN'];
  if (requestedBy === 'PROVIDER') return ['CUSTOMER'];
  if (requestedBy === 'CUSTOMER') return ['PROVIDER'];
  return ['PROVIDER', 'CUSTOMER'];
}

const KIND_ORDER = Object.values(ActionKind);

/**
 * The action items of `actor` at `now`, by kind, then deadline (none last), then agreement key and
 * month. A role the policy lets do nothing (an analyst) has none, and runs no SQL.
 */
export async function actionItemsOf(em: EntityManager, actor: Actor, now: Date): Promise<ActionItemValue[]> {
  if (!ACTIONS.some((a) => rolesFor(a).includes(actor.role))) return [];
  const admin = actor.role === Role.ADMIN;
  if (!admin && !actor.departmentIds.length) return [];
  const partyOf = admin ? {} : { $or: [{ provider: { $in: actor.departmentIds } }, { customer: { $in: actor.departmentIds } }] };
  const agreements = await em.find(Agreement, { state: { $in: [AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED] }, ...partyOf });
  if (!agreements.length) return [];
  const ids = agreements.map((a) => a.id);
  const byId = new Map(agreements.map((a) => [a.id, a]));
  // The children decide whether a container is measured (for reports to submit).
  const [versions, children, reports, exclusions, amendments, reopenings, escalations, lifecycleRequests] = await Promise.all([
    em.find(AgreementVersion, { agreement: { $in: ids } }),
    em.find(Agreement, { parent: { $in: ids }, state: { $ne: AgreementStatus.DRAFT } }),
    em.find(Report, { agreement: { $in: ids } }, { fields: ['agreement', 'month', 'status', 'firstSubmittedAt', 'latestRevision', 'revisionCount'], disableIdentityMap: true }),
    em.find(Exclusion, { agreement: { $in: ids }, status: ExclusionStatus.REQUESTED }),
    em.find(Amendment, { agreement: { $in: ids }, status: AmendmentStatus.PROPOSED }),
    em.find(MonthReopening, { agreement: { $in: ids }, status: ReopeningStatus.REQUESTED }),
    em.find(Escalation, { agreement: { $in: ids }, status: EscalationStatus.OPEN }),
    em.find(AgreementLifecycleRequest, { agreement: { $in: ids }, status: LifecycleRequestStatus.PENDING }),
  ]);
  const pending = reports.filter((r) => r.status === ReportStatus.SUBMITTED || r.status === ReportStatus.DISPUTED);
  const revisions = new Map((pending.length ? await em.find(ReportRevision, { id: { $in: pending.map((r) => r.latestRevision?.id as string) } }) : []).map((r) => [r.id, r]));
  const childVersions = children.length ? groupBy(await em.find(AgreementVersion, { agreement: { $in: children.map((c) => c.id) } }), (v) => v.agreement.id) : new Map<string, AgreementVersion[]>();
  const versionsOf = groupBy(versions, (v) => v.agreement.id);
  const childrenOf = groupBy(children, (c) => c.parent?.id);

  const items: ActionItemValue[] = [];
  const add = (a: Agreement, item: Omit<ActionItemValue, 'agreementId' | 'agreementKey' | 'overdue'> & { overdue?: boolean }) =>
    items.push({ agreementId: a.id, agreementKey: a.key, overdue: item.overdue ?? false, ...item });

  for (const a of agreements) {
    if (a.state !== AgreementStatus.DRAFT) continue;
    const parties = agreementParties(a);
    const sides: ActingSide[] =
      !parties.providerId && !parties.customerId ? ['ADMIN'] : [...(a.providerApprovedAt ? [] : ['PROVIDER' as const]), ...(a.customerApprovedAt ? [] : ['CUSTOMER' as const])];
    if (sides.some((side) => awaits(actor, 'agreement:approve', parties, side))) {
      add(a, { kind: ActionKind.APPROVE_AGREEMENT, month: null, deadline: null, referenceId: a.id, title: `Approve the draft agreement ${a.key} "${a.title}"` });
    }
  }
  for (const m of amendments) {
    const a = byId.get(m.agreement.id) as Agreement;
    const parties = agreementParties(a);
    const object = { ...parties, requestedBy: m.proposedBy as ActingSide };
    const sides = decidingSides(m.proposedBy, parties).filter((side) => (side === 'PROVIDER' ? !m.providerApprovedAt : side === 'CUSTOMER' ? !m.customerApprovedAt : true));
    if (sides.some((side) => awaits(actor, 'amendment:decide', object, side))) {
      add(a, {
        kind: ActionKind.DECIDE_AMENDMENT,
        month: m.effectiveMonth,
        deadline: null,
        referenceId: m.id,
        title: `Approve or reject the amendment of ${a.key} from ${monthName(m.effectiveMonth)}`,
      });
    }
  }
  // A party asked to suspend, resume or terminate: the other party's heads decide (issue 16).
  for (const r of lifecycleRequests) {
    const a = byId.get(r.agreement.id) as Agreement;
    const parties = agreementParties(a);
    const object = { ...parties, requestedBy: r.requestedBy as ActingSide };
    if (decidingSides(r.requestedBy, parties).some((side) => awaits(actor, 'lifecycle:decide', object, side))) {
      const what = r.kind === 'TERMINATE' ? `terminate ${a.key} from ${monthName(r.effectiveMonth)}` : `${r.kind === 'SUSPEND' ? 'suspend' : 'resume'} ${a.key}`;
      add(a, {
        kind: ActionKind.DECIDE_LIFECYCLE_REQUEST,
        month: r.effectiveMonth ?? null,
        deadline: null,
        referenceId: r.id,
        title: `Approve or reject the ${r.requestedBy.toLowerCase()}'s request to ${what}: ${r.reason}`,
      });
    }
  }

  const submitted = new Set(reports.filter((r) => r.firstSubmittedAt).map((r) => `${r.agreement.id}|${r.month}`));
  for (const a of agreements) {
    const vs = versionsOf.get(a.id) ?? [];
    if (!vs.length || !a.activatedAt || !awaits(actor, 'report:submit', agreementParties(a), 'PROVIDER')) continue;
    const first = vs.reduce((m, v) => (compareMonths(v.effectiveFrom, m) < 0 ? v.effectiveFrom : m), vs[0].effectiveFrom);
    const kids = (childrenOf.get(a.id) ?? []).map((c) => ({ agreement: c, versions: childVersions.get(c.id) ?? [] }));
    for (const month of monthRange(first, monthOf(now))) {
      if (submitted.has(`${a.id}|${month}`) || !measuredInMonth(a, vs, kids, month)) continue;
      const version = versionAt(vs, month) as AgreementVersion;
      if (monthEndsAt(version.calendar, month).getTime() > now.getTime()) continue;
      const due = dueFor(a, version, month);
      const overdue = due.dueAt.getTime() < now.getTime();
      add(a, {
        kind: ActionKind.SUBMIT_REPORT,
        month,
        deadline: due.dueAt,
        overdue,
        referenceId: a.id,
        title: `Submit the ${monthName(month)} report of ${a.key} (due ${due.dueDate}${overdue ? ', overdue' : ''})`,
      });
    }
  }

  for (const r of pending) {
    const a = byId.get(r.agreement.id) as Agreement;
    const revision = revisions.get(r.latestRevision?.id as string);
    if (!revision) continue;
    const parties = agreementParties(a);
    const status = reportStatusAt(r, revision, now).status;
    if (status === ReportStatus.SUBMITTED && awaits(actor, 'report:acknowledge', parties, 'CUSTOMER')) {
      const deadlineAt = revision.acceptanceDueAt ?? null;
      add(a, {
        kind: ActionKind.ACKNOWLEDGE_REPORT,
        month: r.month,
        deadline: deadlineAt,
        referenceId: revision.id,
        title: `Acknowledge or dispute the ${monthName(r.month)} report of ${a.key} (revision ${revision.number})`,
      });
    }
    if (status !== ReportStatus.DISPUTED) continue;
    if (revision.ruling !== 'REJECTED' && awaits(actor, 'report:submit', parties, 'PROVIDER')) {
      add(a, {
        kind: ActionKind.CORRECT_REPORT,
        month: r.month,
        deadline: null,
        referenceId: revision.id,
        title: `Correct the disputed ${monthName(r.month)} report of ${a.key}: ${revision.disputeReason ?? ''}`.trim(),
      });
    }
    if (!revision.ruling && awaits(actor, 'dispute:settle', parties, 'ADMIN')) {
      add(a, {
        kind: ActionKind.SETTLE_DISPUTE,
        month: r.month,
        deadline: null,
        referenceId: revision.id,
        title: `Settle the dispute of the ${monthName(r.month)} report of ${a.key}: ${revision.disputeReason ?? ''}`.trim(),
      });
    }
  }

  for (const x of exclusions) {
    const a = byId.get(x.agreement.id) as Agreement;
    const parties = agreementParties(a);
    if (awaits(actor, 'exclusion:decide', parties, parties.customerId ? 'CUSTOMER' : 'ADMIN')) {
      add(a, { kind: ActionKind.DECIDE_EXCLUSION, month: x.month, deadline: null, referenceId: x.id, title: `Approve or reject the exclusion requested for ${monthName(x.month)} of ${a.key}` });
    }
  }
  for (const o of reopenings) {
    const a = byId.get(o.agreement.id) as Agreement;
    const parties = agreementParties(a);
    const object = { ...parties, requestedBy: o.requestedBySide as ActingSide };
    if (decidingSides(o.requestedBySide, parties).some((side) => awaits(actor, 'reopening:decide', object, side))) {
      add(a, { kind: ActionKind.DECIDE_REOPENING, month: o.month, deadline: null, referenceId: o.id, title: `Approve or reject reopening ${monthName(o.month)} of ${a.key}: ${o.reason}` });
    }
  }
  for (const e of escalations) {
    const a = byId.get(e.agreement.id) as Agreement;
    const parties = agreementParties(a);
    if (e.acknowledgedAt || !awaits(actor, 'escalation:acknowledge', parties, parties.providerId ? 'PROVIDER' : 'ADMIN')) continue;
    const version = versionAt(versionsOf.get(a.id) ?? [], e.month);
    const due = version ? deadline(e, version.calendar, e.responseTargetHours) : null;
    add(a, {
      kind: ActionKind.ANSWER_ESCALATION,
      month: e.month,
      deadline: due,
      overdue: !!due && due.getTime() < now.getTime(),
      referenceId: e.id,
      title: `Answer the ${e.severity} escalation on ${a.key}: ${e.title}`,
    });
  }

  const time = (d: Date | null) => (d ? d.getTime() : Number.MAX_SAFE_INTEGER);
  return items.sort(
    (x, y) =>
      KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) ||
      time(x.deadline) - time(y.deadline) ||
      x.agreementKey.localeCompare(y.agreementKey) ||
      (x.month ?? '').localeCompare(y.month ?? '') ||
      x.referenceId.localeCompare(y.referenceId),
  );
}
