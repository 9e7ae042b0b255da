import { newId } from './ids';
import { Entity, type EntityManager, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { actorOf } from './actor';
import { noteOutboxWrite } from './outbox-signal';
import { sqlOf } from './sql';

/**
 * One domain event in the outbox (DESIGN §10, docs/events.md): what happened, to which agreement
 * and departments, who did it, in which request, with a typed payload. Written in the same
 * transaction as the change by {@link emitEvent}, so a change that rolls back leaves no event and
 * a committed change always has its event. Consumers (the inbox, webhooks, e-mail) page by `seq`.
 */
@Entity({ tableName: 'domain_event' })
@Index({ properties: ['occurredAt'] })
@Index({ properties: ['providerDepartmentId'] })
@Index({ properties: ['customerDepartmentId'] })
@Index({ properties: ['tx', 'seq'] })
export class DomainEvent {
  /** The outbox order: an autoincrement integer consumers remember as their position. */
  @PrimaryKey({ type: 'integer', autoincrement: true })
  seq!: number;

  /** The event's identity for the outside world (a webhook's `webhook-id`). */
  @Property({ type: 'uuid' })
  @Unique()
  id: string = newId();

  @Property({ type: 'string', length: 60 })
  type!: string;

  /** The payload's schema version for `type` (docs/events.md, "Versioning"). */
  @Property({ type: 'integer' })
  version!: number;

  /** The request's clock (`ctx.request.now`) or the job's `now`: when the change took effect. */
  @Property({ type: 'Date' })
  occurredAt!: Date;

  @Property({ type: 'uuid', nullable: true })
  agreementId?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  agreementKey?: string | null;

  /** Who may see the event later: the agreement's two parties (null for CORPORATE agreements). */
  @Property({ type: 'uuid', nullable: true })
  providerDepartmentId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  customerDepartmentId?: string | null;

  /** The acting user; null for the system (a job, a seed). */
  @Property({ type: 'string', length: 100, nullable: true })
  actorUserId?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  requestId?: string | null;

  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  /**
   * The writing transaction's id on PostgreSQL (`txid_current()`), 0 on SQLite: consumers read in
   * (tx, seq) order and only transactions older than every running one, so an event whose
   * transaction commits after a later `seq` is never skipped (src/common/outbox.ts).
   */
  @Property({ type: 'bigint', default: 0 })
  tx!: string;
}

type ReportStatusName = 'DRAFT' | 'SUBMITTED' | 'ACKNOWLEDGED' | 'DISPUTED';
/** A status read from an entity (its enum's value); the schema names the values it may take. */
type AgreementStatusName = string;

/** What every report event says about the report: which one, which month, which revision. */
export interface ReportEventBase {
  reportId: string;
  /** `YYYY-MM`. */
  month: string;
  /** The revision the event concerns (1 for the first submission). */
  revision: number;
  /** The stored status before the change; null when the report did not exist yet. */
  statusBefore: string | null;
  statusAfter: ReportStatusName;
}

/** The payload of each event type, version 1. docs/events.schema.json holds their JSON Schemas. */
export interface EventPayloads {
  'report.submitted': ReportEventBase & { revisionId: string; correction: boolean; lateByWorkingDays: number };
  'report.acknowledged': ReportEventBase;
  'report.disputed': ReportEventBase & { reason: string };
  'report.deemed_acknowledged': ReportEventBase & { acceptanceDueAt: string };
  'report.dispute_settled': ReportEventBase & { ruling: 'UPHELD' | 'REJECTED'; note: string };
  'exclusion.requested': { exclusionId: string; month: string; objectiveId: string; metricCode: string; reasonCode: string; statusWhenRequested: string; status: 'REQUESTED' };
  'exclusion.decided': { exclusionId: string; month: string; objectiveId: string; statusBefore: 'REQUESTED'; statusAfter: 'APPROVED' | 'REJECTED'; note: string | null };
  'amendment.proposed': { amendmentId: string; effectiveMonth: string; proposedBy: string; reason: string; status: 'PROPOSED' };
  /** Approved by the other party (or an admin), rejected with a reason, or withdrawn by its proposer. */
  'amendment.decided': { amendmentId: string; effectiveMonth: string; statusBefore: 'PROPOSED'; statusAfter: 'APPROVED' | 'REJECTED' | 'WITHDRAWN'; reason: string | null };
  'agreement.awaiting_approval': { status: 'DRAFT'; tier: string; title: string; providerCode: string | null; customerCode: string | null };
  'agreement.activated': { statusBefore: AgreementStatusName; statusAfter: 'ACTIVE' };
  /** The change took effect (an admin's call, or the other party's approval of a request). `requestId` and `reason` are the change's record (issue 16). */
  'agreement.suspended': { statusBefore: AgreementStatusName; statusAfter: 'SUSPENDED' } & LifecycleChange;
  'agreement.resumed': { statusBefore: AgreementStatusName; statusAfter: 'ACTIVE' } & LifecycleChange;
  /** Stored TERMINATED: at once for a DRAFT or a termination from the current month, by the scheduler when a later `effectiveMonth` comes. */
  'agreement.terminated': { statusBefore: AgreementStatusName; statusAfter: 'TERMINATED'; effectiveMonth?: string | null } & LifecycleChange;
  /** Issue 16: a party's head asked; the other party's head (or an admin) approves or rejects. */
  'agreement.suspension_requested': LifecycleRequestEvent;
  'agreement.resumption_requested': LifecycleRequestEvent;
  'agreement.termination_requested': LifecycleRequestEvent & { effectiveMonth: string };
  /** A termination from a later month was approved: the agreement stays as it is until `effectiveMonth` begins. */
  'agreement.termination_scheduled': { requestId: string; reason: string; effectiveMonth: string; status: AgreementStatusName };
  'agreement.lifecycle_request_rejected': {
    requestId: string;
    kind: string;
    requestedBy: 'PROVIDER' | 'CUSTOMER';
    reason: string;
    statusBefore: 'PENDING';
    statusAfter: 'REJECTED';
  };
  'agreement.lifecycle_request_withdrawn': { requestId: string; kind: string; requestedBy: 'PROVIDER' | 'CUSTOMER'; statusBefore: 'PENDING'; statusAfter: 'WITHDRAWN' };
  'escalation.opened': { escalationId: string; month: string; severity: string; title: string; status: 'OPEN' };
  'escalation.resolved': { escalationId: string; month: string; severity: string; statusBefore: string; statusAfter: 'RESOLVED' };
  /** The ledger closed the month and posted its credit: CLOSE the first time, ADJUSTMENT after a reopening. */
  'month.closed': { month: string; closedAt: string; cause: string; kind: 'CLOSE' | 'ADJUSTMENT'; percent: number; amount: number; delta: number };
  'month.reopened': { month: string; reopeningId: string; reason: string };
  /** A party asked to reopen a closed month; the other party (or an admin) decides. An admin's own request reopens at once (`month.reopened`). */
  'reopening.requested': { month: string; reopeningId: string; reason: string; requestedBy: 'PROVIDER' | 'CUSTOMER'; status: 'REQUESTED' };
  'reopening.rejected': { month: string; reopeningId: string; note: string; statusBefore: 'REQUESTED'; statusAfter: 'REJECTED' };
  'escalation.acknowledged': { escalationId: string; month: string; severity: string; statusBefore: 'OPEN'; statusAfter: 'ACKNOWLEDGED' };
  /** The scheduler: 75 % of an OPEN escalation's response target has passed on its clock. */
  'escalation.deadline_near': { escalationId: string; month: string; severity: string; deadlineAt: string; fraction: number };
  /** The scheduler: its response deadline passed while it was still OPEN. */
  'escalation.deadline_missed': { escalationId: string; month: string; severity: string; deadlineAt: string };
  /** The scheduler: a month's report falls due within N working days and has not been submitted. */
  'report.due_soon': { month: string; dueDate: string; dueAt: string; workingDaysLeft: number };
  /** The scheduler: the report's due instant passed and it has not been submitted. */
  'report.overdue': { month: string; dueDate: string; dueAt: string };
  /** The scheduler: a live agreement's periodic review date has come. */
  'agreement.review_due': { reviewDate: string; basis: 'SCHEDULED' | 'CADENCE' };
  /** The ledger: an objective-month's status moved to AT_RISK, to BREACHED, or back to MET or EXCUSED. */
  'objective.at_risk': ObjectiveTransition;
  'objective.breached': ObjectiveTransition;
  'objective.recovered': ObjectiveTransition;
}

/** The record of a lifecycle change that took effect (issue 16); optional, as events written before it lack them. */
export interface LifecycleChange {
  requestId?: string | null;
  reason?: string | null;
}

/** A party's pending request to suspend, resume or terminate. */
export interface LifecycleRequestEvent {
  requestId: string;
  reason: string;
  requestedBy: 'PROVIDER' | 'CUSTOMER';
  status: 'PENDING';
}

/** What the ledger says of an objective-month whose status moved (objective.* events). */
export interface ObjectiveTransition {
  month: string;
  objectiveId: string;
  metricCode: string;
  statusBefore: string | null;
  statusAfter: string;
  /** The month's value as scored (null without one). */
  value: number | null;
  target: number;
  warning: number | null;
}

export type EventType = keyof EventPayloads;

/** Every type, in the order docs/events.md lists them (the schema file has one definition each). */
export const EVENT_TYPES = [
  'report.submitted',
  'report.acknowledged',
  'report.disputed',
  'report.deemed_acknowledged',
  'report.dispute_settled',
  'exclusion.requested',
  'exclusion.decided',
  'amendment.proposed',
  'amendment.decided',
  'agreement.awaiting_approval',
  'agreement.activated',
  'agreement.suspended',
  'agreement.resumed',
  'agreement.terminated',
  'escalation.opened',
  'escalation.resolved',
  'month.closed',
  'month.reopened',
  'reopening.requested',
  'reopening.rejected',
  'escalation.acknowledged',
  'escalation.deadline_near',
  'escalation.deadline_missed',
  'report.due_soon',
  'report.overdue',
  'agreement.review_due',
  'objective.at_risk',
  'objective.breached',
  'objective.recovered',
  'agreement.suspension_requested',
  'agreement.resumption_requested',
  'agreement.termination_requested',
  'agreement.termination_scheduled',
  'agreement.lifecycle_request_rejected',
  'agreement.lifecycle_request_withdrawn',
] as const satisfies readonly EventType[];

/** The current payload version of every type; bumped when a field is removed or retyped. */
export const EVENT_VERSION = 1;

/** The agreement an event concerns, as the entity holds it (its parties as references). */
export interface EventAgreement {
  id: string;
  key: string;
  provider?: { id: string } | null;
  customer?: { id: string } | null;
}

/** One event to write: its type, when it happened, its agreement, and the payload its type demands. */
export interface EventInput<T extends EventType> {
  type: T;
  occurredAt: Date;
  agreement: EventAgreement | null;
  payload: EventPayloads[T];
}

/**
 * Writes a domain event through `em`, the write's transactional EntityManager, so it commits or
 * rolls back with the change. A raw insert rather than `em.create`: the row is written at once, in
 * the order the events happened (its `seq`), whatever the write flushes after it; the actor and
 * request id come from the transaction (`setActor`), as the audit log's do.
 */
export function emitEvent<T extends EventType>(em: EntityManager, event: EventInput<T>): Promise<void> {
  return emitEvents(em, [event as unknown as AnyEventInput]);
}

/** An event of any type, its payload tied to its type. */
export type AnyEventInput = { [T in EventType]: EventInput<T> }[EventType];

/**
 * Writes several events in order (the ledger's transitions and closes of a sync), a statement per
 * 500. Same transaction, actor and request as {@link emitEvent}.
 */
export async function emitEvents(em: EntityManager, events: readonly AnyEventInput[]): Promise<void> {
  if (!events.length) return;
  const sql = sqlOf(em);
  const actor = actorOf(em);
  const rows = events.map((event) => {
    const a = event.agreement;
    return {
      id: newId(),
      type: event.type,
      version: EVENT_VERSION,
      occurred_at: sql.date(event.occurredAt),
      agreement_id: a?.id ?? null,
      agreement_key: a?.key ?? null,
      provider_department_id: a?.provider?.id ?? null,
      customer_department_id: a?.customer?.id ?? null,
      actor_user_id: actor.userId,
      request_id: actor.requestId,
      payload: JSON.stringify(event.payload),
    };
  });
  const columns = Object.keys(rows[0]);
  // The transaction's id is the database's to give (PostgreSQL); SQLite has one writer and keeps 0.
  const tuple = `(${columns.map(() => '?').join(', ')}, ${sql.pg ? 'txid_current()' : '0'})`;
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    const params = batch.flatMap((row) => columns.map((c) => row[c as keyof typeof row]));
    await sql.run(`insert into "domain_event" (${columns.map((c) => `"${c}"`).join(', ')}, "tx") values ${batch.map(() => tuple).join(', ')}`, params);
  }
  // The instance's consumers read when this commits, not at their next poll.
  noteOutboxWrite(em);
}
