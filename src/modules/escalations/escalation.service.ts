import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { escalationMetricValues as pureEscalationMetricValues, type EscalationMetricFacts } from '../../scoring/automated';
import { touchLedger } from '../../common/ledger-touch';
import { emitEvent } from '../../common/events';
import { paginate, type Page } from '../../common/connection';
import { rowLock } from '../../common/locks';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserErrorCode, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import { addWorkingHours, AROUND_THE_CLOCK, type BusinessCalendar, localDateOf, workingHoursBetween } from '../../common/working-time';
import type { Context } from '../../common/context';
import { Agreement, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { idOfRef } from '../../common/lookup';
import { activeInMonth, agreementParties, versionAt } from '../agreements/agreement.rules';
import { principalOf } from '../../common/authorization';
import { assertMay } from '../../common/policy';
import { Severity } from '../../common/severity';
import { Escalation, EscalationStatus } from './escalation.entity';
import type { EscalationFilter, EscalationTransitionInput, OpenEscalationInput } from './escalation.inputs';

/** The clock a severity counts on (DESIGN §5): CRITICAL around the clock, the others in working time. */
export function clockFor(severity: Severity, calendar: BusinessCalendar): BusinessCalendar {
  return severity === Severity.CRITICAL ? AROUND_THE_CLOCK : calendar;
}

/** Hours between two instants on the clock of a severity, rounded to the microhour. */
export function hoursOn(severity: Severity, calendar: BusinessCalendar, from: Date, to: Date): number {
  return Math.round(workingHoursBetween(clockFor(severity, calendar), from, to) * 1e6) / 1e6;
}

/**
 * Raises an escalation against a CUSTOMER or SERVICE agreement ACTIVE in the month it is opened:
 * either party's head or integration, or an admin. The targets of the policy in force for its
 * severity are kept with it, so a later amendment does not move its goalposts.
 */
export function openEscalation(ctx: Context, input: OpenEscalationInput, now = ctx.request.now): Promise<MutationResult<Escalation>> {
  return runCreate(ctx, 'openEscalation', input, Escalation, async (em) => {
    const agreement = await em.findOne(Agreement, input.agreementId);
    if (!agreement) userError('agreementId', UserErrorCode.NOT_FOUND, `no agreement has id ${input.agreementId}`);
    assertMay(
      ctx,
      'escalation:open',
      agreementParties(agreement),
      (p) => `A ${p.role} principal may not raise escalations against ${agreement.key}: only admins and its parties' heads and integrations do`,
    );
    if (agreement.tier === Tier.CORPORATE)
      userError('agreementId', UserErrorCode.INVALID, `agreement ${agreement.key} is CORPORATE: raise the escalation against the agreement of the service concerned`);
    const openedAt = input.openedAt ?? now;
    if (openedAt.getTime() > now.getTime() + 5 * 60_000) userError('openedAt', UserErrorCode.INVALID, `openedAt: ${openedAt.toISOString()} is in the future`);
    const versions = await em.find(AgreementVersion, { agreement: agreement.id });
    const calendar = (versionAt(versions, openedAt.toISOString().slice(0, 7)) ?? versions[0]).calendar;
    const month = localDateOf(calendar, openedAt).slice(0, 7);
    if (!activeInMonth(agreement, versions, month)) userError('openedAt', UserErrorCode.INVALID, `openedAt: agreement ${agreement.key} was not ACTIVE in ${month}`);
    const policy = (versionAt(versions, month) as AgreementVersion).escalationPolicy[input.severity];
    const escalation = em.create(Escalation, {
      agreement,
      severity: input.severity,
      title: input.title.trim(),
      description: input.description.trim(),
      month,
      openedAt,
      responseTargetHours: policy.responseHours,
      resolutionTargetHours: policy.resolutionHours,
      openedByUserId: principalOf(ctx).userId,
    });
    await em.flush();
    touchLedger(em, now, { agreementId: agreement.id, months: [month] });
    await emitEvent(em, {
      type: 'escalation.opened',
      occurredAt: now,
      agreement,
      payload: { escalationId: escalation.id, month, severity: escalation.severity, title: escalation.title, status: 'OPEN' },
    });
    return escalation;
  });
}

async function loadForTransition(
  em: EntityManager,
  ctx: Context,
  input: EscalationTransitionInput,
  verb: 'acknowledge' | 'resolve',
  now: Date,
): Promise<{ escalation: Escalation; agreement: Agreement; calendar: BusinessCalendar; at: Date }> {
  const lockMode = rowLock(em, 'update');
  const escalation = await em.findOne(Escalation, input.id, lockMode ? { lockMode, refresh: true } : {});
  if (!escalation) userError('id', UserErrorCode.NOT_FOUND, `no escalation has id ${input.id}`);
  const agreement = await em.findOneOrFail(Agreement, escalation.agreement.id);
  assertMay(
    ctx,
    `escalation:${verb}`,
    agreementParties(agreement),
    (p) => `A ${p.role} principal may not ${verb} escalations of ${agreement.key}: only admins and the provider's head and integrations do`,
  );
  assertVersion(escalation, input.expectedVersion);
  const at = input.at ?? now;
  if (at.getTime() > now.getTime() + 5 * 60_000) userError('at', UserErrorCode.INVALID, `at: ${at.toISOString()} is in the future`);
  if (at.getTime() < escalation.openedAt.getTime())
    userError('at', UserErrorCode.INVALID, `at: expected ${escalation.openedAt.toISOString()} (when it was opened) or later, received ${at.toISOString()}`);
  const versions = await em.find(AgreementVersion, { agreement: agreement.id });
  return { escalation, agreement, calendar: (versionAt(versions, escalation.month) as AgreementVersion).calendar, at };
}

/** OPEN → ACKNOWLEDGED by the provider side: the response clock stops. */
export function acknowledgeEscalation(ctx: Context, input: EscalationTransitionInput, now = ctx.request.now): Promise<MutationResult<Escalation>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { escalation, agreement, calendar, at } = await loadForTransition(em, ctx, input, 'acknowledge', now);
    if (escalation.status !== EscalationStatus.OPEN) userError('id', UserErrorCode.ILLEGAL_TRANSITION, `the escalation is ${escalation.status}; only an OPEN one can be acknowledged`);
    escalation.status = EscalationStatus.ACKNOWLEDGED;
    escalation.acknowledgedAt = at;
    escalation.responseHours = hoursOn(escalation.severity, calendar, escalation.openedAt, at);
    await em.flush();
    touchLedger(em, now, { agreementId: escalation.agreement.id, months: [escalation.month] });
    await emitEvent(em, {
      type: 'escalation.acknowledged',
      occurredAt: now,
      agreement,
      payload: { escalationId: escalation.id, month: escalation.month, severity: escalation.severity, statusBefore: 'OPEN', statusAfter: 'ACKNOWLEDGED' },
    });
    return escalation;
  });
}

/** OPEN or ACKNOWLEDGED → RESOLVED by the provider side, with how; an OPEN one is acknowledged at the same instant. */
export function resolveEscalation(ctx: Context, input: EscalationTransitionInput, now = ctx.request.now): Promise<MutationResult<Escalation>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { escalation, agreement, calendar, at } = await loadForTransition(em, ctx, input, 'resolve', now);
    const statusBefore = escalation.status;
    if (escalation.status === EscalationStatus.RESOLVED) userError('id', UserErrorCode.ILLEGAL_TRANSITION, 'the escalation is RESOLVED already');
    const resolution = input.resolution?.trim();
    if (!resolution) userError('resolution', UserErrorCode.REQUIRED, 'resolution: say how it was resolved');
    if (escalation.acknowledgedAt && at.getTime() < escalation.acknowledgedAt.getTime()) {
      userError('at', UserErrorCode.INVALID, `at: expected ${escalation.acknowledgedAt.toISOString()} (when it was acknowledged) or later, received ${at.toISOString()}`);
    }
    if (!escalation.acknowledgedAt) {
      escalation.acknowledgedAt = at;
      escalation.responseHours = hoursOn(escalation.severity, calendar, escalation.openedAt, at);
    }
    escalation.status = EscalationStatus.RESOLVED;
    escalation.resolvedAt = at;
    escalation.resolution = resolution;
    escalation.resolutionHours = hoursOn(escalation.severity, calendar, escalation.openedAt, at);
    await em.flush();
    touchLedger(em, now, { agreementId: escalation.agreement.id, months: [escalation.month] });
    await emitEvent(em, {
      type: 'escalation.resolved',
      occurredAt: now,
      agreement,
      payload: { escalationId: escalation.id, month: escalation.month, severity: escalation.severity, statusBefore, statusAfter: 'RESOLVED' },
    });
    return escalation;
  });
}

/** The escalations connection, newest first. */
export async function listEscalations(ctx: Context, filter: EscalationFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Escalation>> {
  const agreement = await idOfRef(ctx.em, Agreement, 'Agreement', 'filter.agreementId', filter?.agreementId, 'key');
  const where: FilterQuery<Escalation>[] = [];
  if (agreement) where.push({ agreement });
  if (filter?.status) where.push({ status: filter.status });
  if (filter?.severity) where.push({ severity: filter.severity });
  if (filter?.month) where.push({ month: filter.month });
  return paginate(
    ctx.em,
    Escalation,
    { $and: where },
    [
      ['openedAt', 'desc'],
      ['id', 'desc'],
    ],
    page,
  );
}

/** When the response or resolution is due: the target counted on the severity's clock from opening. */
export function deadline(e: Pick<Escalation, 'severity' | 'openedAt'>, calendar: BusinessCalendar, hours: number): Date {
  return addWorkingHours(clockFor(e.severity, calendar), e.openedAt, hours);
}

/** The escalation metrics of one agreement-month at `now` (the pure rule, with this module's clocks). */
export function escalationMetricValues<E extends EscalationMetricFacts & Pick<Escalation, 'severity' | 'openedAt'>>(
  list: E[],
  calendarOf: (e: E) => BusinessCalendar,
  now: Date,
): Record<string, number | null> {
  return pureEscalationMetricValues(list, (e) => deadline(e, calendarOf(e), e.responseTargetHours), now);
}
