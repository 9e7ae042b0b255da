import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { paginate, type Page } from '../../common/connection';
import { NotFoundError } from '../../common/errors';
import { departmentByRef } from '../departments/department.service';
import { rowLock } from '../../common/locks';
import { touchLedger } from '../../common/ledger-touch';
import { emitEvent } from '../../common/events';
import { compareMonths, monthOf, monthRange, type Month } from '../../common/month';
import { horizonOf } from '../../scoring/ledger';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserError, UserErrorCode, UserErrorsException, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
import { principalOf } from '../../common/authorization';
import { type ActingSide, assertMay, sideIn } from '../../common/policy';
import { Agreement, type AmendmentChanges, Amendment, AmendmentStatus, AgreementStatus, AgreementVersion, Inheritance, Objective, type ObjectiveSpec, Tier } from './agreement.entity';
import type { AmendmentDecisionInput, AmendmentFilter, ProposeAmendmentInput, TermsInput } from './agreement.inputs';
import { agreementParties, agreementRef, datedMessage } from './agreement.rules';
import { checkObjectives, termProblems } from './agreement.validation';
import { createObjective, createVersion } from './agreement.service';
import { tightenAcrossMonths } from './tighten';
import type { ChainLevel, ChainObjective } from './inheritance';

/** An objective of the resulting version, and the input path it came from (for error fields). */
interface Planned {
  spec: ObjectiveSpec;
  path: string;
}

/** The terms of a version as the input type, so changes merge over them. */
function termsOf(v: AgreementVersion): TermsInput {
  return {
    effectiveFrom: v.effectiveFrom,
    effectiveTo: v.effectiveTo ?? null,
    complianceTarget: v.complianceTarget,
    monthlyCharge: v.monthlyCharge,
    creditCapPercent: v.creditCapPercent,
    reportDueWorkingDays: v.reportDueWorkingDays,
    acceptanceWorkingDays: v.acceptanceWorkingDays,
    reviewCadenceMonths: v.reviewCadenceMonths,
    nextReviewDate: v.nextReviewDate ?? null,
    responsibilities: v.responsibilities,
    contacts: v.contacts,
    escalationPolicy: v.escalationPolicy,
    calendar: v.calendar,
  } as TermsInput;
}

/**
 * The version an amendment would create, checked as a whole against the state now: the month
 * (this month or later, not before a version already scheduled), the merged terms, the merged
 * objectives (metrics, bounds, warnings), tighten-only against the ancestors, and — the parent
 * side of the rule — that no live agreement below would end up looser than the new terms.
 */
async function plan(em: EntityManager, agreement: Agreement, changes: AmendmentChanges, effectiveMonth: string, now: Date) {
  if (compareMonths(effectiveMonth, monthOf(now)) < 0) {
    userError('effectiveMonth', UserErrorCode.INVALID, `effectiveMonth: expected ${monthOf(now)} or later (history is never rewritten), received ${effectiveMonth}`);
  }
  const versions = await em.find(AgreementVersion, { agreement: agreement.id }, { orderBy: { number: 'asc' } });
  const latest = versions[versions.length - 1];
  if (compareMonths(effectiveMonth, latest.effectiveMonth) < 0) {
    userError('effectiveMonth', UserErrorCode.INVALID, `effectiveMonth: version ${latest.number} already takes effect in ${latest.effectiveMonth}; amend from then or later`);
  }
  const terms = { ...termsOf(latest), ...changes.terms } as TermsInput;
  const errors = termProblems(terms);
  if (terms.effectiveTo && compareMonths(terms.effectiveTo, effectiveMonth) < 0) {
    // Ending the agreement before the amendment starts would rewrite months already governed.
    errors.push(new UserError('terms.effectiveTo', UserErrorCode.INVALID, `effectiveTo: expected ${effectiveMonth} (the amendment's first month) or later, received ${terms.effectiveTo}`));
  }
  const current = await em.find(Objective, { agreementVersion: latest.id }, { orderBy: { position: 'asc' } });
  const planned: Planned[] = current.map((o, i) => ({
    spec: { metricId: o.metric.id, target: o.target, warning: o.warning, weight: o.weight, creditPercent: o.creditPercent, inheritance: o.inheritance },
    path: `objectives[${i}]`,
  }));
  changes.removeObjectives.forEach((metricId, i) => {
    const at = planned.findIndex((p) => p.spec.metricId === metricId);
    if (at < 0) errors.push(new UserError(`removeObjectives[${i}]`, UserErrorCode.NOT_FOUND, `the agreement has no objective on metric ${metricId}`));
    else planned.splice(at, 1);
  });
  changes.changeObjectives.forEach((c, i) => {
    const p = planned.find((x) => x.spec.metricId === c.metricId);
    if (!p) return errors.push(new UserError(`changeObjectives[${i}].metricId`, UserErrorCode.NOT_FOUND, `the agreement has no objective on metric ${c.metricId}`));
    p.spec = { ...p.spec, ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) };
    p.path = `changeObjectives[${i}]`;
  });
  changes.addObjectives.forEach((a, i) => {
    if (planned.some((p) => p.spec.metricId === a.metricId))
      errors.push(new UserError(`addObjectives[${i}].metricId`, UserErrorCode.INVALID, 'the agreement already has an objective on this metric; change it instead'));
    else planned.push({ spec: a, path: `addObjectives[${i}]` });
  });
  if (errors.length) throw new UserErrorsException(errors);
  let metrics;
  try {
    metrics = await checkObjectives(
      em,
      planned.map((p) => p.spec as never),
    );
  } catch (e) {
    // checkObjectives names `objectives[k]`: point at the input the k-th planned objective came from.
    if (!(e instanceof UserErrorsException)) throw e;
    throw new UserErrorsException(e.errors.map((u) => new UserError(u.field?.replace(/^objectives\[(\d+)\]/, (_, k: string) => planned[Number(k)].path) ?? null, u.code, u.message)));
  }
  const level: ChainLevel<ChainObjective> = {
    agreementId: agreement.id,
    agreementKey: agreement.key,
    objectives: planned.map((p, i) => ({
      metricId: metrics[i].id,
      metricCode: metrics[i].code,
      direction: metrics[i].direction,
      target: p.spec.target,
      inheritance: p.spec.inheritance ?? Inheritance.APPLIES,
    })),
  };
  const violations = await tightenAcrossMonths(em, { id: agreement.id, key: agreement.key, parentId: agreement.parent?.id ?? null }, level.objectives, effectiveMonth);
  const pathOf = (metricCode: string) => `${planned[level.objectives.findIndex((o) => o.metricCode === metricCode)].path}.target`;
  const loosening = violations.map((v) =>
    v.childKey === agreement.key
      ? new UserError(pathOf(v.metricCode), UserErrorCode.LOOSENS, datedMessage(v, effectiveMonth))
      : new UserError(pathOf(v.metricCode), UserErrorCode.LOOSENS, `${datedMessage(v, effectiveMonth)}; change ${v.childKey} first or keep ${agreement.key} at most as tight`),
  );
  if (loosening.length) throw new UserErrorsException(loosening);
  return { versions, latest, terms, planned, metrics };
}

/** Changes from the input, as stored on the amendment. */
function changesOf(input: ProposeAmendmentInput): AmendmentChanges {
  // `null` means "remove" only where a value may be absent (effectiveTo, nextReviewDate,
  // warning); elsewhere it means "keep", like an omitted field.
  const keep =
    (nullable: string[]) =>
    ([k, v]: [string, unknown]) =>
      v !== undefined && (v !== null || nullable.includes(k));
  const terms = Object.fromEntries(Object.entries(input.terms ?? {}).filter(keep(['effectiveTo', 'nextReviewDate']))) as Record<string, unknown>;
  return {
    terms: JSON.parse(JSON.stringify(terms)),
    addObjectives: (input.addObjectives ?? []).map((o) => Object.fromEntries(Object.entries({ ...o }).filter(keep(['warning']))) as unknown as ObjectiveSpec),
    changeObjectives: (input.changeObjectives ?? []).map((o) => Object.fromEntries(Object.entries({ ...o }).filter(keep(['warning']))) as unknown as ObjectiveSpec),
    removeObjectives: input.removeObjectives ?? [],
  };
}

/** The refusal of a principal that is no party of the agreement (CORPORATE: admins only). */
function notParty(role: string, agreement: Agreement, what: string): string {
  return `A ${role} principal may not ${what} amendments of ${agreement.key}: ${agreement.tier === Tier.CORPORATE ? 'only admins do' : "only admins and the parties' heads do"}`;
}

/** Proposes a change of terms from a month on (a party's head, or an admin). */
export function proposeAmendment(ctx: Context, input: ProposeAmendmentInput, now = ctx.request.now): Promise<MutationResult<Amendment>> {
  return runCreate(ctx, 'proposeAmendment', input, Amendment, async (em) => {
    const lockMode = rowLock(em, 'update');
    const agreement = await em.findOne(Agreement, input.agreementId, lockMode ? { lockMode, refresh: true } : {});
    if (!agreement) userError('agreementId', UserErrorCode.NOT_FOUND, `no agreement has id ${input.agreementId}`);
    const parties = agreementParties(agreement);
    assertMay(ctx, 'amendment:propose', parties, (p) => notParty(p.role, agreement, 'propose'));
    const side = sideIn(principalOf(ctx), parties) as ActingSide;
    assertVersion(agreement, input.expectedVersion);
    if (agreement.state !== AgreementStatus.ACTIVE && agreement.state !== AgreementStatus.SUSPENDED) {
      userError('agreementId', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is ${agreement.state}; only ACTIVE or SUSPENDED agreements are amended`);
    }
    const changes = changesOf(input);
    if (!Object.keys(changes.terms).length && !changes.addObjectives.length && !changes.changeObjectives.length && !changes.removeObjectives.length) {
      userError(null, UserErrorCode.REQUIRED, 'an amendment changes terms or objectives; this one changes nothing');
    }
    await plan(em, agreement, changes, input.effectiveMonth, now);
    const amendment = em.create(Amendment, {
      agreement,
      effectiveMonth: input.effectiveMonth,
      reason: input.reason.trim(),
      proposedBy: side,
      proposedByUserId: principalOf(ctx).userId,
      changes,
      status: AmendmentStatus.PROPOSED,
      // The proposer's side has approved by proposing; an admin's proposal is approved by
      // neither party yet.
      providerApprovedAt: side === 'PROVIDER' ? now : null,
      customerApprovedAt: side === 'CUSTOMER' ? now : null,
    });
    await em.flush();
    await emitEvent(em, {
      type: 'amendment.proposed',
      occurredAt: now,
      agreement,
      payload: { amendmentId: amendment.id, effectiveMonth: amendment.effectiveMonth, proposedBy: side, reason: amendment.reason, status: 'PROPOSED' },
    });
    return amendment;
  });
}

async function loadDecision(em: EntityManager, ctx: Context, input: AmendmentDecisionInput, what: 'approve' | 'reject' | 'withdraw') {
  const amendment = await em.findOne(Amendment, input.id);
  if (!amendment) userError('id', UserErrorCode.NOT_FOUND, `no amendment has id ${input.id}`);
  // FOR UPDATE on the agreement: decisions on its amendments (and new versions) run one at a time.
  const lockMode = rowLock(em, 'update');
  const agreement = await em.findOneOrFail(Agreement, amendment.agreement.id, lockMode ? { lockMode, refresh: true } : {});
  // The policy decides by the proposer's side too: the other party approves or rejects, the
  // proposer's withdraws (an admin's proposal waits for both heads).
  const parties = agreementParties(agreement);
  const proposedBy = amendment.proposedBy as ActingSide;
  assertMay(ctx, what === 'withdraw' ? 'amendment:withdraw' : 'amendment:decide', { ...parties, requestedBy: proposedBy }, (p, refusal) => {
    if (refusal === 'NOT_PARTY') return notParty(p.role, agreement, what);
    return what === 'withdraw' ? `The ${proposedBy} side proposed this amendment; only it (or an admin) withdraws it` : `The ${proposedBy} side proposed this amendment; the other party ${what}s it`;
  });
  const side = sideIn(principalOf(ctx), parties) as ActingSide;
  assertVersion(amendment, input.expectedVersion);
  if (amendment.status !== AmendmentStatus.PROPOSED) {
    userError('id', UserErrorCode.ILLEGAL_TRANSITION, `the amendment is ${amendment.status}; only PROPOSED amendments can be ${what === 'withdraw' ? 'withdrawn' : `${what}d`}`);
  }
  return { amendment, agreement, side };
}

/**
 * Approves an amendment. A head approves for its side; an admin (not the proposer's side)
 * approves outright; a CORPORATE amendment needs an admin. Once both parties have approved (or
 * an admin has), its changes, checked again against the state now, become a new version from its
 * month on. Earlier months keep the version that governed them.
 */
export function approveAmendment(ctx: Context, input: AmendmentDecisionInput, now = ctx.request.now): Promise<MutationResult<Amendment>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { amendment, agreement, side } = await loadDecision(em, ctx, input, 'approve');
    if (agreement.state !== AgreementStatus.ACTIVE && agreement.state !== AgreementStatus.SUSPENDED) {
      userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is ${agreement.state}; amendments of it can no longer be approved`);
    }
    if (side === 'PROVIDER') amendment.providerApprovedAt ??= now;
    if (side === 'CUSTOMER') amendment.customerApprovedAt ??= now;
    if (agreement.tier !== Tier.CORPORATE && side !== 'ADMIN' && !(amendment.providerApprovedAt && amendment.customerApprovedAt)) {
      // An admin proposed it: the other head's approval is still to come.
      await em.flush();
      return amendment;
    }
    const { latest, terms, planned, metrics } = await plan(em, agreement, amendment.changes, amendment.effectiveMonth, now);
    const version = createVersion(em, agreement, latest.number + 1, amendment.effectiveMonth, terms);
    planned.forEach((p, i) => createObjective(em, version, metrics[i], p.spec as never, i));
    amendment.status = AmendmentStatus.APPROVED;
    amendment.decidedAt = now;
    amendment.decidedByUserId = principalOf(ctx).userId;
    amendment.resultingVersion = em.getReference(AgreementVersion, version.id, { wrapped: true });
    // A new version changes the agreement: its lockVersion moves, so a proposal built on the old
    // terms gets a CONFLICT instead of silently applying to the new ones.
    agreement.updatedAt = now;
    await em.flush();
    // Only the months it governs change, of the agreement and of those inheriting from it.
    await touchLedgerTree(em, now, agreement.id, amendment.effectiveMonth);
    await decided(em, now, agreement, amendment, 'APPROVED', null);
    return amendment;
  });
}

/** Rejects an amendment, with a reason (the other side). */
export function rejectAmendment(ctx: Context, input: AmendmentDecisionInput, now = ctx.request.now): Promise<MutationResult<Amendment>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { amendment, agreement } = await loadDecision(em, ctx, input, 'reject');
    if (!input.reason?.trim()) userError('reason', UserErrorCode.REQUIRED, 'reason: say why the amendment is rejected');
    amendment.status = AmendmentStatus.REJECTED;
    amendment.rejectionReason = input.reason.trim();
    amendment.decidedAt = now;
    amendment.decidedByUserId = principalOf(ctx).userId;
    await em.flush();
    await decided(em, now, agreement, amendment, 'REJECTED', amendment.rejectionReason);
    return amendment;
  });
}

/** Withdraws an amendment (its proposer's side, or an admin). */
export function withdrawAmendment(ctx: Context, input: AmendmentDecisionInput, now = ctx.request.now): Promise<MutationResult<Amendment>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { amendment, agreement } = await loadDecision(em, ctx, input, 'withdraw');
    amendment.status = AmendmentStatus.WITHDRAWN;
    amendment.decidedAt = now;
    amendment.decidedByUserId = principalOf(ctx).userId;
    await em.flush();
    await decided(em, now, agreement, amendment, 'WITHDRAWN', null);
    return amendment;
  });
}

/** The `amendment.decided` event of a PROPOSED amendment's end. */
function decided(em: EntityManager, now: Date, agreement: Agreement, amendment: Amendment, statusAfter: 'APPROVED' | 'REJECTED' | 'WITHDRAWN', reason: string | null): Promise<void> {
  return emitEvent(em, {
    type: 'amendment.decided',
    occurredAt: now,
    agreement,
    payload: { amendmentId: amendment.id, effectiveMonth: amendment.effectiveMonth, statusBefore: 'PROPOSED', statusAfter, reason },
  });
}

/** Touches an agreement and every agreement under it (inherited terms), from `from` to the horizon. */
async function touchLedgerTree(em: EntityManager, now: Date, agreementId: string, from: Month): Promise<void> {
  const ids = [agreementId];
  // Its ancestors too: a child's terms (its last month) decide the months its parent is measured in.
  for (let id: string | undefined = agreementId, depth = 0; id && depth < 5; depth++) {
    id = (await em.findOne(Agreement, id, { fields: ['parent'], disableIdentityMap: true }))?.parent?.id;
    if (id) ids.push(id);
  }
  for (let layer = [agreementId], depth = 0; layer.length && depth < 5; depth++) {
    layer = (await em.find(Agreement, { parent: { $in: layer } }, { fields: ['id'], disableIdentityMap: true })).map((a) => a.id);
    ids.push(...layer);
  }
  const to = horizonOf(now);
  const months = compareMonths(from, to) <= 0 ? monthRange(from, to) : [];
  touchLedger(em, now, ...ids.map((id) => ({ agreementId: id, months })));
}

/**
 * Amendments across agreements, newest first (issue 16: what a head deals with): of one status,
 * of the agreements a department provides or receives, of one agreement (id or key).
 */
export async function listAmendments(ctx: Context, filter: AmendmentFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Amendment>> {
  const where: Array<FilterQuery<Amendment>> = [];
  if (filter?.status) where.push({ status: filter.status });
  if (filter?.department) {
    const department = await departmentByRef(ctx, 'filter.department', filter.department);
    where.push({ agreement: { $or: [{ provider: department.id }, { customer: department.id }] } });
  }
  if (filter?.agreement) {
    const ref = agreementRef(filter.agreement);
    const agreement = await ctx.em.findOne(Agreement, ref.where);
    if (!agreement) throw new NotFoundError('Agreement', `${ref.by} ${filter.agreement} (filter.agreement)`);
    where.push({ agreement: agreement.id });
  }
  return paginate(
    ctx.em,
    Amendment,
    { $and: where },
    [
      ['createdAt', 'desc'],
      ['id', 'desc'],
    ],
    page,
  );
}
