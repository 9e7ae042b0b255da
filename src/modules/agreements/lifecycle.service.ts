/**
 * Suspending, resuming and terminating agreements (DESIGN §5, issue 16 "Conduct"). A party's head
 * only asks, with a reason: the change takes effect when the other party's head (or an admin)
 * approves it, so neither side can drop its own bad months from scoring alone. An admin's call
 * takes effect at once, recorded with its reason. A termination names the first month out of
 * scope, never a past one; months before it keep scoring.
 */
import type { EntityManager } from '@mikro-orm/core';
import { principalOf } from '../../common/authorization';
import { emitEvent } from '../../common/events';
import { touchLedger } from '../../common/ledger-touch';
import { rowLock } from '../../common/locks';
import { compareMonths, monthOf } from '../../common/month';
import { assertVersion, runMutation, type MutationResult } from '../../common/mutation';
import { type ActingSide, assertMay, sideIn } from '../../common/policy';
import { UserErrorCode, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
import { Agreement, AgreementStatus, AgreementVersion, Amendment, AmendmentStatus, Tier } from './agreement.entity';
import type { AgreementTransitionInput, LifecycleDecisionInput } from './agreement.inputs';
import { agreementParties, displayStatus } from './agreement.rules';
import { assertPairFree, loadForTransition } from './agreement.service';
import { AgreementLifecycleRequest, LifecycleRequestKind, LifecycleRequestStatus } from './lifecycle.entity';

const { SUSPEND, RESUME, TERMINATE } = LifecycleRequestKind;
const VERB = { SUSPEND: 'suspend', RESUME: 'resume', TERMINATE: 'terminate' } as const;
const PARTICIPLE = { SUSPEND: 'suspended', RESUME: 'resumed', TERMINATE: 'terminated' } as const;
/** The stored states each change starts from. */
const FROM: Record<LifecycleRequestKind, AgreementStatus[]> = {
  SUSPEND: [AgreementStatus.ACTIVE],
  RESUME: [AgreementStatus.SUSPENDED],
  TERMINATE: [AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED],
};
const REASON_MAX = 2000;

/** A reason with text in it, trimmed: REQUIRED when blank (its length is bounded by the input's validation). */
function reasonOf(value: string | null | undefined, why: string): string {
  const reason = value?.trim();
  if (!reason) userError('reason', UserErrorCode.REQUIRED, `reason: ${why}`);
  if (reason.length > REASON_MAX) userError('reason', UserErrorCode.INVALID, `reason: expected at most ${REASON_MAX} characters`);
  return reason;
}

/** The agreement's PENDING request, if any (at most one: checked under the agreement's row lock). */
export function pendingRequestOf(em: EntityManager, agreementId: string): Promise<AgreementLifecycleRequest | null> {
  return em.findOne(AgreementLifecycleRequest, { agreement: agreementId, status: LifecycleRequestStatus.PENDING });
}

/**
 * Whether `kind` may start from the agreement as it stands at `now`: its stored state, not past its
 * last month (EXPIRED: only termination, for the record), not already terminated from a month
 * that has come, no termination already decided, and (terminating) nothing live under it.
 */
async function assertLegal(em: EntityManager, agreement: Agreement, kind: LifecycleRequestKind, now: Date): Promise<void> {
  if (!FROM[kind].includes(agreement.state)) userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is ${agreement.state}; it cannot be ${PARTICIPLE[kind]}`);
  const shown = displayStatus(agreement, await em.find(AgreementVersion, { agreement: agreement.id }), now);
  if (shown === AgreementStatus.TERMINATED || (shown === AgreementStatus.EXPIRED && kind !== TERMINATE)) {
    userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is ${shown}; it cannot be ${PARTICIPLE[kind]}`);
  }
  if (kind === TERMINATE && agreement.terminatesFrom) {
    userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is already terminated from ${agreement.terminatesFrom}`);
  }
  if (kind === TERMINATE) {
    const live = await em.count(Agreement, { parent: agreement.id, state: { $in: [AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.DRAFT] } });
    if (live) userError('id', UserErrorCode.IN_USE, `agreement ${agreement.key} still has ${live} live agreement(s) under it; terminate those first`);
  }
}

/** A termination's month: the current month (UTC, as scoring counts months) or later. */
function assertNotPast(month: string, now: Date, field: string, what: string): void {
  const current = monthOf(now);
  if (compareMonths(month, current) < 0) userError(field, UserErrorCode.INVALID, `${field}: ${what} must be the current month (${current}) or later; got ${month}`);
}

/**
 * suspendAgreement, resumeAgreement, terminateAgreement. An admin (the only caller a CORPORATE
 * agreement has) changes the agreement at once; so does a party's head terminating a DRAFT, which
 * binds no one yet. A party's head otherwise records a PENDING request for the other party to
 * decide; asking again for the same thing while it is pending changes nothing (a safe retry).
 */
export function changeLifecycle(ctx: Context, input: AgreementTransitionInput, kind: LifecycleRequestKind): Promise<MutationResult<Agreement>> {
  return runMutation(ctx, async (em) => {
    const now = ctx.request.now;
    // Validate before any row is read or locked.
    await assertValidInput(input);
    const reason = reasonOf(input.reason, `say why the agreement is to be ${PARTICIPLE[kind]}`);
    if (kind === TERMINATE && input.effectiveMonth) assertNotPast(input.effectiveMonth, now, 'effectiveMonth', 'the first month out of scope');
    const { agreement, party } = await loadForTransition(em, ctx, input, VERB[kind]);
    await assertLegal(em, agreement, kind, now);
    let effectiveMonth: string | null = null;
    if (kind === TERMINATE && agreement.state !== AgreementStatus.DRAFT) {
      if (!input.effectiveMonth) userError('effectiveMonth', UserErrorCode.REQUIRED, `effectiveMonth: name the first month out of scope (${monthOf(now)} or later); months before it keep scoring`);
      effectiveMonth = input.effectiveMonth;
    }
    const userId = principalOf(ctx).userId ?? null;
    const pending = await pendingRequestOf(em, agreement.id);
    const direct = party === 'ADMIN' || agreement.tier === Tier.CORPORATE || (kind === TERMINATE && agreement.state === AgreementStatus.DRAFT);
    if (direct) {
      // A pending party request for the same change is overtaken by it.
      if (pending && pending.kind === kind) close(pending, LifecycleRequestStatus.WITHDRAWN, party, userId, now);
      const record = em.create(AgreementLifecycleRequest, {
        agreement,
        kind,
        status: LifecycleRequestStatus.PENDING,
        reason,
        effectiveMonth,
        requestedBy: party,
        requestedByUserId: userId,
        requestedAt: now,
      });
      await apply(em, agreement, record, party, userId, now);
      return agreement;
    }
    if (pending) {
      const same = pending.kind === kind && pending.requestedBy === party && pending.reason === reason && (pending.effectiveMonth ?? null) === effectiveMonth;
      if (same) return agreement; // a retry of the request already made
      userError(
        'id',
        UserErrorCode.ILLEGAL_TRANSITION,
        `agreement ${agreement.key} already has a pending ${pending.kind} request by the ${pending.requestedBy} side; it must be decided or withdrawn first`,
      );
    }
    const request = em.create(AgreementLifecycleRequest, { agreement, kind, reason, effectiveMonth, requestedBy: party, requestedByUserId: userId, requestedAt: now });
    await em.flush();
    const base = { requestId: request.id, reason, requestedBy: party as 'PROVIDER' | 'CUSTOMER', status: 'PENDING' as const };
    if (kind === SUSPEND) await emitEvent(em, { type: 'agreement.suspension_requested', occurredAt: now, agreement, payload: base });
    else if (kind === RESUME) await emitEvent(em, { type: 'agreement.resumption_requested', occurredAt: now, agreement, payload: base });
    else await emitEvent(em, { type: 'agreement.termination_requested', occurredAt: now, agreement, payload: { ...base, effectiveMonth: effectiveMonth as string } });
    return agreement;
  });
}

function close(request: AgreementLifecycleRequest, status: LifecycleRequestStatus, by: string, userId: string | null, now: Date): void {
  request.status = status;
  request.decidedAt = now;
  request.decidedBy = by;
  request.decidedByUserId = userId;
}

/**
 * Makes an approved change: the request (or an admin's record) becomes APPROVED and the agreement
 * moves. A termination from a later month only records that month (the agreement stays as it is
 * until then; `agreement.termination_scheduled`); one from the current month ends it now.
 */
async function apply(em: EntityManager, agreement: Agreement, request: AgreementLifecycleRequest, by: string, userId: string | null, now: Date): Promise<void> {
  const statusBefore = agreement.state;
  const common = { requestId: request.id, reason: request.reason };
  close(request, LifecycleRequestStatus.APPROVED, by, userId, now);
  if (request.kind === SUSPEND) {
    agreement.suspensions = [...agreement.suspensions, { from: now.toISOString(), to: null }];
    agreement.state = AgreementStatus.SUSPENDED;
    await em.flush();
    await emitEvent(em, { type: 'agreement.suspended', occurredAt: now, agreement, payload: { statusBefore, statusAfter: 'SUSPENDED', ...common } });
  } else if (request.kind === RESUME) {
    await assertPairFree(em, agreement);
    agreement.suspensions = agreement.suspensions.map((s) => (s.to ? s : { ...s, to: now.toISOString() }));
    agreement.state = AgreementStatus.ACTIVE;
    await em.flush();
    await emitEvent(em, { type: 'agreement.resumed', occurredAt: now, agreement, payload: { statusBefore, statusAfter: 'ACTIVE', ...common } });
  } else if (request.effectiveMonth && compareMonths(request.effectiveMonth, monthOf(now)) > 0) {
    agreement.terminatesFrom = request.effectiveMonth;
    await em.flush();
    await emitEvent(em, { type: 'agreement.termination_scheduled', occurredAt: now, agreement, payload: { effectiveMonth: request.effectiveMonth, status: statusBefore, ...common } });
  } else {
    agreement.terminatesFrom = request.effectiveMonth ?? null;
    await endAgreement(em, agreement, now, by, userId);
    await emitEvent(em, {
      type: 'agreement.terminated',
      occurredAt: now,
      agreement,
      payload: { statusBefore, statusAfter: 'TERMINATED', effectiveMonth: request.effectiveMonth ?? null, ...common },
    });
  }
  // Which months are in scope changed: every month of the agreement is synced again.
  touchLedger(em, now, { agreementId: agreement.id });
}

/**
 * Stores a termination that has taken effect: TERMINATED, its pending amendments and lifecycle
 * requests withdrawn (change control ends with the agreement). Used by approvals of a termination
 * from the current month and by the scheduler when a later month comes.
 */
export async function endAgreement(em: EntityManager, agreement: Agreement, now: Date, by: string, userId: string | null): Promise<void> {
  agreement.state = AgreementStatus.TERMINATED;
  agreement.terminatedAt = now;
  for (const pending of await em.find(Amendment, { agreement: agreement.id, status: AmendmentStatus.PROPOSED })) {
    pending.status = AmendmentStatus.WITHDRAWN;
    pending.decidedAt = now;
    pending.decidedByUserId = userId;
  }
  for (const pending of await em.find(AgreementLifecycleRequest, { agreement: agreement.id, status: LifecycleRequestStatus.PENDING })) {
    close(pending, LifecycleRequestStatus.WITHDRAWN, by, userId, now);
  }
  await em.flush();
}

/** The request, its agreement locked FOR UPDATE (decisions of one agreement run one after the other), and the decider's side. */
async function loadDecision(
  em: EntityManager,
  ctx: Context,
  input: LifecycleDecisionInput,
  what: 'approve' | 'reject' | 'withdraw',
): Promise<{ request: AgreementLifecycleRequest; agreement: Agreement; side: ActingSide; replay: boolean }> {
  const found = await em.findOne(AgreementLifecycleRequest, input.id);
  if (!found) userError('id', UserErrorCode.NOT_FOUND, `no lifecycle request has id ${input.id}`);
  const lockMode = rowLock(em, 'update');
  const agreement = await em.findOneOrFail(Agreement, found.agreement.id, lockMode ? { lockMode, refresh: true } : {});
  // Read again under the lock: a decision that committed while we waited is seen.
  const request = lockMode ? await em.findOneOrFail(AgreementLifecycleRequest, input.id, { refresh: true }) : found;
  const parties = agreementParties(agreement);
  const requestedBy = request.requestedBy as ActingSide;
  assertMay(ctx, what === 'withdraw' ? 'lifecycle:withdraw' : 'lifecycle:decide', { ...parties, requestedBy }, (p, refusal) => {
    if (refusal === 'NOT_PARTY') return `A ${p.role} principal may not ${what} requests on agreement ${agreement.key}: only admins and the parties' heads do`;
    return what === 'withdraw'
      ? `The ${requestedBy} side asked for this change; only it (or an admin) withdraws it`
      : `The ${requestedBy} side asked for this change; the other party (or an admin) ${what}s it`;
  });
  const side = sideIn(principalOf(ctx), parties) as ActingSide;
  const target = { approve: LifecycleRequestStatus.APPROVED, reject: LifecycleRequestStatus.REJECTED, withdraw: LifecycleRequestStatus.WITHDRAWN }[what];
  // The same principal asking again for what it already did: a retry, answered as the first time.
  const replay = request.status === target && !!request.decidedByUserId && request.decidedByUserId === principalOf(ctx).userId;
  if (!replay) {
    assertVersion(request, input.expectedVersion);
    if (request.status !== LifecycleRequestStatus.PENDING) {
      userError('id', UserErrorCode.ILLEGAL_TRANSITION, `the request is ${request.status}; only PENDING requests can be ${what === 'withdraw' ? 'withdrawn' : `${what}d`}`);
    }
  }
  return { request, agreement, side, replay };
}

/** Approves a pending request (the other party's head, or an admin): the change takes effect now, checked against the agreement as it now stands. */
export function approveLifecycleRequest(ctx: Context, input: LifecycleDecisionInput): Promise<MutationResult<AgreementLifecycleRequest>> {
  return runMutation(ctx, async (em) => {
    const now = ctx.request.now;
    await assertValidInput(input);
    const { request, agreement, side, replay } = await loadDecision(em, ctx, input, 'approve');
    if (replay) return request;
    await assertLegal(em, agreement, request.kind, now);
    if (request.effectiveMonth) assertNotPast(request.effectiveMonth, now, 'id', `the request's first month out of scope (${request.effectiveMonth}) has passed; it`);
    await apply(em, agreement, request, side, principalOf(ctx).userId ?? null, now);
    return request;
  });
}

/** Rejects a pending request with a reason (the other party's head, or an admin); nothing changes. */
export function rejectLifecycleRequest(ctx: Context, input: LifecycleDecisionInput): Promise<MutationResult<AgreementLifecycleRequest>> {
  return runMutation(ctx, async (em) => {
    const now = ctx.request.now;
    await assertValidInput(input);
    const reason = reasonOf(input.reason, 'say why the request is rejected');
    const { request, agreement, side, replay } = await loadDecision(em, ctx, input, 'reject');
    if (replay) return request;
    close(request, LifecycleRequestStatus.REJECTED, side, principalOf(ctx).userId ?? null, now);
    request.rejectionReason = reason;
    await em.flush();
    await emitEvent(em, {
      type: 'agreement.lifecycle_request_rejected',
      occurredAt: now,
      agreement,
      payload: { requestId: request.id, kind: request.kind, requestedBy: request.requestedBy as 'PROVIDER' | 'CUSTOMER', reason, statusBefore: 'PENDING', statusAfter: 'REJECTED' },
    });
    return request;
  });
}

/** Withdraws a pending request (its requester's side, or an admin). */
export function withdrawLifecycleRequest(ctx: Context, input: LifecycleDecisionInput): Promise<MutationResult<AgreementLifecycleRequest>> {
  return runMutation(ctx, async (em) => {
    const now = ctx.request.now;
    await assertValidInput(input);
    const { request, agreement, side, replay } = await loadDecision(em, ctx, input, 'withdraw');
    if (replay) return request;
    close(request, LifecycleRequestStatus.WITHDRAWN, side, principalOf(ctx).userId ?? null, now);
    await em.flush();
    await emitEvent(em, {
      type: 'agreement.lifecycle_request_withdrawn',
      occurredAt: now,
      agreement,
      payload: { requestId: request.id, kind: request.kind, requestedBy: request.requestedBy as 'PROVIDER' | 'CUSTOMER', statusBefore: 'PENDING', statusAfter: 'WITHDRAWN' },
    });
    return request;
  });
}

/**
 * The scheduler's part (src/jobs): agreements whose decided termination month has come are stored
 * TERMINATED, with `agreement.terminated`. What is shown never waited for it (`displayStatus`).
 */
export async function endDueTerminations(em: EntityManager, now: Date): Promise<number> {
  const due = await em.find(Agreement, { state: { $in: [AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED] }, terminatesFrom: { $ne: null, $lte: monthOf(now) } }, { orderBy: { key: 'asc' } });
  for (const agreement of due) {
    const statusBefore = agreement.state;
    await endAgreement(em, agreement, now, 'SYSTEM', null);
    const decided = await em.findOne(AgreementLifecycleRequest, { agreement: agreement.id, kind: TERMINATE, status: LifecycleRequestStatus.APPROVED }, { orderBy: { decidedAt: 'desc' } });
    await emitEvent(em, {
      type: 'agreement.terminated',
      occurredAt: now,
      agreement,
      payload: { statusBefore, statusAfter: 'TERMINATED', effectiveMonth: agreement.terminatesFrom ?? null, requestId: decided?.id ?? null, reason: decided?.reason ?? null },
    });
  }
  return due.length;
}
