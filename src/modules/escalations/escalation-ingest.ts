import { type EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { RetryableConflict } from '../../common/retry';
import { isUUID } from 'class-validator';
import { groupBy } from '../../common/collections';
import type { Context, Principal } from '../../common/context';
import { principalOf } from '../../common/authorization';
import { type AnyEventInput, emitEvents } from '../../common/events';
import { touchLedger } from '../../common/ledger-touch';
import { lockAgreementMonths, rowLock } from '../../common/locks';
import { runMutation, type MutationResult } from '../../common/mutation';
import { assertMay } from '../../common/policy';
import { ForbiddenError } from '../../common/errors';
import { Role } from '../../common/role';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { localDateOf } from '../../common/working-time';
import { Agreement, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { activeInMonth, agreementParties, versionAt } from '../agreements/agreement.rules';
import { Escalation, EscalationBatch, EscalationStatus } from './escalation.entity';
import type { RecordEscalationsInput } from './escalation.inputs';
import { hoursOn } from './escalation.service';
import { checkBatch } from '../../common/ingest';

/** Most escalations one call takes (as handoff events and measurements). */
export const MAX_ESCALATIONS = 5000;

/**
 * Records a batch of escalations from a ticketing system (issue 16), all or nothing: every problem
 * of every escalation is listed by index (`escalations[2].resolvedAt`) and nothing is written. A
 * re-sent external id (per source) updates its escalation: times, severity, agreement, and the
 * status they give (RESOLVED with a resolution time, ACKNOWLEDGED with a response time, else
 * OPEN). Each is stored as `openEscalation` stores one (the policy targets of the version in force
 * when opened, the clocks of its severity), audited, announced with the events of its transitions,
 * and its agreement-months re-scored (a closed month keeps its results and shows late data).
 * Admins, and INTEGRATION principals for agreements one of whose parties is their department.
 */
export function recordEscalations(ctx: Context, input: RecordEscalationsInput, now = ctx.request.now): Promise<MutationResult<EscalationBatch>> {
  return runMutation(ctx, (em) => ingestEscalations(em, input, { principal: principalOf(ctx), now }));
}

/** The ingest inside the caller's transaction. */
export async function ingestEscalations(
  em: EntityManager,
  input: RecordEscalationsInput,
  options: { principal: Pick<Principal, 'role' | 'departmentIds' | 'userId'>; now: Date },
): Promise<EscalationBatch> {
  const p = options.principal;
  const now = options.now;
  const { source, errors } = checkBatch(input.source, input.escalations, 'escalations', 'escalation', MAX_ESCALATIONS);

  const refs = [...new Set(input.escalations.map((e) => e.agreement.trim()))];
  const agreements = refs.length
    ? await em.find(Agreement, { $or: [{ id: { $in: refs.filter((r) => isUUID(r)).map((r) => r.toLowerCase()) } }, { key: { $in: refs.filter((r) => !isUUID(r)).map((r) => r.toUpperCase()) } }] })
    : [];
  const agreementBy = new Map<string, Agreement>();
  for (const a of agreements) agreementBy.set(a.id, a).set(a.key, a);
  const versions = groupBy(agreements.length ? await em.find(AgreementVersion, { agreement: { $in: agreements.map((a) => a.id) } }) : [], (v) => v.agreement.id);

  const future = now.getTime() + 5 * 60_000;
  const firstIndex = new Map<string, number>();
  const valid: Array<{ i: number; externalId: string; agreement: Agreement; version: AgreementVersion; month: string }> = [];
  input.escalations.forEach((e, i) => {
    const at = (field: string) => `escalations[${i}].${field}`;
    const before = errors.length;
    const externalId = e.externalId.trim();
    if (!externalId || externalId.length > 200) errors.push(new UserError(at('externalId'), externalId ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'externalId: expected 1 to 200 characters'));
    else if (firstIndex.has(externalId))
      errors.push(new UserError(at('externalId'), UserErrorCode.INVALID, `externalId: ${externalId} appears twice in the batch (escalations[${firstIndex.get(externalId)}])`));
    else firstIndex.set(externalId, i);
    const ref = e.agreement.trim();
    const agreement = agreementBy.get(isUUID(ref) ? ref.toLowerCase() : ref.toUpperCase());
    if (!agreement) errors.push(new UserError(at('agreement'), UserErrorCode.NOT_FOUND, `no agreement has ${isUUID(ref) ? 'id' : 'key'} ${ref}`));
    else {
      // The whole batch is refused at the first escalation this principal may not record.
      assertMay(
        { principal: p },
        'escalation:ingest',
        agreementParties(agreement),
        () => `A ${p.role} principal may not record escalations for agreement ${agreement.key} (escalations[${i}]): only admins and the integrations of its parties do`,
      );
      if (agreement.tier === Tier.CORPORATE)
        errors.push(new UserError(at('agreement'), UserErrorCode.INVALID, `agreement ${agreement.key} is CORPORATE: raise the escalation against the agreement of the service concerned`));
    }
    const title = e.title.trim();
    if (!title || title.length > 300) errors.push(new UserError(at('title'), title ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'title: expected 1 to 300 characters'));
    if (e.description && e.description.length > 10_000) errors.push(new UserError(at('description'), UserErrorCode.INVALID, 'description: expected at most 10000 characters'));
    if (e.openedAt.getTime() > future) errors.push(new UserError(at('openedAt'), UserErrorCode.INVALID, `openedAt: ${e.openedAt.toISOString()} is in the future`));
    const check = (field: 'acknowledgedAt' | 'resolvedAt', t: Date | null | undefined, floor: Date, floorName: string) => {
      if (!t) return;
      if (t.getTime() < floor.getTime()) errors.push(new UserError(at(field), UserErrorCode.INVALID, `${field}: expected ${floor.toISOString()} (${floorName}) or later, received ${t.toISOString()}`));
      else if (t.getTime() > future) errors.push(new UserError(at(field), UserErrorCode.INVALID, `${field}: ${t.toISOString()} is in the future`));
    };
    check('acknowledgedAt', e.acknowledgedAt, e.openedAt, 'openedAt');
    check('resolvedAt', e.resolvedAt, e.acknowledgedAt ?? e.openedAt, e.acknowledgedAt ? 'acknowledgedAt' : 'openedAt');
    if (e.resolution?.trim() && !e.resolvedAt) errors.push(new UserError(at('resolution'), UserErrorCode.INVALID, 'resolution: only a resolved escalation has one'));
    if (!agreement || errors.length > before) return;
    const vs = versions.get(agreement.id) ?? [];
    const calendar = (versionAt(vs, e.openedAt.toISOString().slice(0, 7)) ?? vs[0])?.calendar;
    const month = calendar ? localDateOf(calendar, e.openedAt).slice(0, 7) : e.openedAt.toISOString().slice(0, 7);
    if (!activeInMonth(agreement, vs, month)) {
      errors.push(new UserError(at('openedAt'), UserErrorCode.INVALID, `openedAt: agreement ${agreement.key} was not ACTIVE in ${month}`));
      return;
    }
    valid.push({ i, externalId, agreement, version: versionAt(vs, month) as AgreementVersion, month });
  });
  if (errors.length) throw new UserErrorsException(errors);

  // The months written to are locked first (ascending), as handoff ingest does; PostgreSQL reads
  // the re-sent escalations FOR UPDATE. Two batches creating one new external id at once: the
  // loser's INSERT fails on the unique (source, external_id) and the batch runs again (below).
  await lockAgreementMonths(
    em,
    valid.map((v) => ({ agreementId: v.agreement.id, month: v.month })),
  );
  const lock = rowLock(em, 'update') ? { lockMode: LockMode.PESSIMISTIC_WRITE as const, refresh: true, orderBy: { externalId: 'asc' as const } } : {};
  const existing = new Map<string, Escalation>();
  const ids = valid.map((v) => v.externalId).sort();
  for (let k = 0; k < ids.length; k += 900) {
    for (const found of await em.find(Escalation, { source, externalId: { $in: ids.slice(k, k + 900) } }, lock)) {
      existing.set(found.externalId as string, found);
    }
  }
  // A re-sent ticket that is another agreement's escalation: the sender must be allowed to record
  // for that agreement too, or it could move and rewrite escalations of agreements it is no party
  // to by reusing their source and external id.
  const foreign = [...new Set([...existing.values()].map((x) => x.agreement.id).filter((id) => !agreementBy.has(id)))];
  if (foreign.length) {
    const owners = new Map((await em.find(Agreement, { id: { $in: foreign } })).map((a) => [a.id, a]));
    for (const [externalId, x] of existing) {
      const owner = owners.get(x.agreement.id);
      if (!owner) continue;
      assertMay(
        { principal: p },
        'escalation:ingest',
        agreementParties(owner),
        () =>
          `A ${p.role} principal may not change escalation ${source}/${externalId} (escalations[${firstIndex.get(externalId)}]): it belongs to agreement ${owner.key}, whose parties’ integrations and admins alone record for it`,
      );
    }
  }
  // A re-send by another principal than the one that sent it (`openedByUserId`, read with the rows
  // above): refused unless it is an admin's correction, so one party's integration cannot rewrite
  // the times of a ticket the other party raised by reusing its source name.
  if (p.role !== Role.ADMIN) {
    const taken = [...existing.entries()].filter(([, x]) => x.openedByUserId !== p.userId).sort(([a], [b]) => (firstIndex.get(a) ?? 0) - (firstIndex.get(b) ?? 0))[0];
    if (taken)
      throw new ForbiddenError(
        `A ${p.role} principal may not change escalation ${source}/${taken[0]} (escalations[${firstIndex.get(taken[0])}]): another principal sent it, and only the integration that sent it or an admin may change it`,
      );
  }
  const moved = [...existing.values()].map((x) => ({ agreementId: x.agreement.id, month: x.month }));
  await lockAgreementMonths(em, moved);

  const touched: Array<{ agreementId: string; month: string }> = [...moved];
  const events: AnyEventInput[] = [];
  for (const v of valid) {
    const e = input.escalations[v.i];
    const policy = v.version.escalationPolicy[e.severity];
    const calendar = v.version.calendar;
    const acknowledgedAt = e.acknowledgedAt ?? e.resolvedAt ?? null;
    const status = e.resolvedAt ? EscalationStatus.RESOLVED : acknowledgedAt ? EscalationStatus.ACKNOWLEDGED : EscalationStatus.OPEN;
    const fields = {
      agreement: v.agreement,
      severity: e.severity,
      title: e.title.trim(),
      description: e.description?.trim() || e.title.trim(),
      month: v.month,
      openedAt: e.openedAt,
      responseTargetHours: policy.responseHours,
      resolutionTargetHours: policy.resolutionHours,
      status,
      acknowledgedAt,
      responseHours: acknowledgedAt ? hoursOn(e.severity, calendar, e.openedAt, acknowledgedAt) : null,
      resolvedAt: e.resolvedAt ?? null,
      resolutionHours: e.resolvedAt ? hoursOn(e.severity, calendar, e.openedAt, e.resolvedAt) : null,
      resolution: e.resolvedAt ? e.resolution?.trim() || `resolved in ${source}` : null,
    };
    let escalation = existing.get(v.externalId);
    const statusBefore = escalation?.status ?? null;
    if (escalation) em.assign(escalation, fields);
    else escalation = em.create(Escalation, { ...fields, source, externalId: v.externalId, openedByUserId: p.userId });
    touched.push({ agreementId: v.agreement.id, month: v.month });
    const base = { escalationId: escalation.id, month: v.month, severity: e.severity };
    if (!statusBefore) events.push({ type: 'escalation.opened', occurredAt: now, agreement: v.agreement, payload: { ...base, title: fields.title, status: 'OPEN' } });
    // The transitions the API would have announced: resolving an OPEN one is one `resolved`.
    if ((statusBefore ?? EscalationStatus.OPEN) === EscalationStatus.OPEN && status === EscalationStatus.ACKNOWLEDGED)
      events.push({ type: 'escalation.acknowledged', occurredAt: now, agreement: v.agreement, payload: { ...base, statusBefore: 'OPEN', statusAfter: 'ACKNOWLEDGED' } });
    if (statusBefore !== EscalationStatus.RESOLVED && status === EscalationStatus.RESOLVED)
      events.push({ type: 'escalation.resolved', occurredAt: now, agreement: v.agreement, payload: { ...base, statusBefore: statusBefore ?? EscalationStatus.OPEN, statusAfter: 'RESOLVED' } });
  }
  const batch = em.create(EscalationBatch, { source, received: valid.length, created: valid.length - existing.size, updated: existing.size, recordedByUserId: p.userId });
  try {
    await em.flush();
  } catch (e) {
    // A concurrent batch created one of these external ids after it was read here: run the whole
    // batch again (runMutation), which then finds it and updates it.
    if (e instanceof UniqueConstraintViolationException) throw new RetryableConflict(`an escalation of ${source} was created by a concurrent batch`);
    throw e;
  }
  const byAgreement = groupBy(touched, (t) => t.agreementId);
  touchLedger(em, now, ...[...byAgreement].map(([agreementId, list]) => ({ agreementId, months: [...new Set(list.map((t) => t.month))] })));
  await emitEvents(em, events);
  return batch;
}
