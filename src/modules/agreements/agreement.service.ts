/** Creating agreements and approving drafts (DESIGN §3); suspend, resume and terminate are in lifecycle.service.ts. */
import type { EntityManager } from '@mikro-orm/core';
import { touchLedger } from '../../common/ledger-touch';
import { emitEvent } from '../../common/events';
import { rowLock } from '../../common/locks';
import { loadForWrite } from '../../common/lookup';
import { monthOf, type Month } from '../../common/month';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserError, UserErrorCode, UserErrorsException, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
import { principalOf } from '../../common/authorization';
import { type ActingSide, assertMay, sideIn } from '../../common/policy';
import { Metric } from '../catalog/metric.entity';
import { Service } from '../catalog/service.entity';
import { Department } from '../departments/department.entity';
import { Agreement, AgreementStatus, AgreementVersion, type EscalationPolicy, Inheritance, Objective, Tier } from './agreement.entity';
import { type AgreementTransitionInput, type CreateAgreementInput, ObjectiveInput, TermsInput } from './agreement.inputs';
import { type ChainLevel, type ChainObjective } from './inheritance';
import { tightenAcrossMonths } from './tighten';
import { checkObjectives, partiesOf, TERM_DEFAULTS, termProblems } from './agreement.validation';
import { agreementRef, datedMessage, agreementParties, versionAt } from './agreement.rules';
/**
 * Drafts an agreement with its first version (terms and objectives). CORPORATE agreements are
 * drafted by admins; CUSTOMER and SERVICE ones by admins or a head of either party.
 */
export function createAgreement(ctx: Context, input: CreateAgreementInput): Promise<MutationResult<Agreement>> {
  return runCreate(
    ctx,
    'createAgreement',
    input,
    Agreement,
    async (em) => {
      // With a template, the terms and objectives it gives, merged with those given.
      const { terms, objectives } = input.copyTermsFrom ? await copiedTerms(em, ctx.request.now, input.copyTermsFrom, input) : { terms: input.terms, objectives: input.objectives ?? [] };
      const errors: UserError[] = [];
      const required = (field: string, value: unknown, why: string) => {
        if (!value) errors.push(new UserError(field, UserErrorCode.REQUIRED, `${field}: ${why}`));
      };
      if (input.tier === Tier.CORPORATE) {
        for (const [field, value] of partiesOf(input)) {
          if (value) errors.push(new UserError(field, UserErrorCode.INVALID, `${field}: a CORPORATE agreement binds every department; leave it out`));
        }
      } else {
        required('providerId', input.providerId, `a ${input.tier} agreement needs a provider department`);
        required('customerId', input.customerId, `a ${input.tier} agreement needs a customer department`);
        required(
          'parentId',
          input.parentId,
          input.tier === Tier.CUSTOMER ? 'a CUSTOMER agreement sits under a CORPORATE agreement' : 'a SERVICE agreement sits under the CUSTOMER agreement of its pair',
        );
        if (input.tier === Tier.SERVICE) required('serviceId', input.serviceId, 'a SERVICE agreement is about one service of the provider');
        else if (input.serviceId) errors.push(new UserError('serviceId', UserErrorCode.INVALID, 'serviceId: only SERVICE agreements name a service'));
        if (input.providerId && input.customerId && input.providerId.toLowerCase() === input.customerId.toLowerCase()) {
          errors.push(new UserError('customerId', UserErrorCode.INVALID, 'customerId: the customer must be another department than the provider'));
        }
      }
      errors.push(...termProblems(terms));
      if (errors.length) throw new UserErrorsException(errors);

      const key = input.key.trim().toUpperCase();
      if (await em.findOne(Agreement, { key }, { fields: ['id'], disableIdentityMap: true })) userError('key', UserErrorCode.TAKEN, `agreement key ${key} is already taken`);

      let provider: Department | null = null;
      let customer: Department | null = null;
      let service: Service | null = null;
      let parent: Agreement | null = null;
      if (input.tier !== Tier.CORPORATE) {
        provider = await loadForWrite(em, Department, 'Department', input.providerId as string, 'providerId', { lock: 'share' });
        customer = await loadForWrite(em, Department, 'Department', input.customerId as string, 'customerId', { lock: 'share' });
        const pair = `${provider.code} and ${customer.code}`;
        assertMay(
          ctx,
          'agreement:draft',
          { providerId: provider.id, customerId: customer.id },
          (p) => `A ${p.role} principal may not draft agreements between ${pair}: only admins and the parties' heads do`,
        );
        // FOR SHARE: the parent cannot be terminated or amended under us before we commit.
        const lockMode = rowLock(em, 'share');
        parent = await em.findOne(Agreement, input.parentId as string, lockMode ? { lockMode, refresh: true } : {});
        if (!parent) userError('parentId', UserErrorCode.NOT_FOUND, `no agreement has id ${input.parentId}`);
        if (parent.state === AgreementStatus.TERMINATED) userError('parentId', UserErrorCode.ARCHIVED, `agreement ${parent.key} is terminated`);
        // A decided termination ends the parent with nothing live under it (checked when it was decided).
        if (parent.terminatesFrom) userError('parentId', UserErrorCode.ARCHIVED, `agreement ${parent.key} is terminated from ${parent.terminatesFrom}`);
        if (input.tier === Tier.CUSTOMER && parent.tier !== Tier.CORPORATE) {
          userError('parentId', UserErrorCode.INVALID, `parentId: a CUSTOMER agreement sits under a CORPORATE agreement; ${parent.key} is ${parent.tier}`);
        }
        if (input.tier === Tier.SERVICE) {
          service = await loadForWrite(em, Service, 'Service', input.serviceId as string, 'serviceId', { lock: 'share' });
          if (service.provider.id !== provider.id) userError('serviceId', UserErrorCode.INVALID, `serviceId: service ${service.code} is not provided by ${provider.code}`);
          if (parent.tier !== Tier.CUSTOMER || parent.provider?.id !== provider.id || parent.customer?.id !== customer.id) {
            userError('parentId', UserErrorCode.INVALID, `parentId: a SERVICE agreement sits under the CUSTOMER agreement of ${provider.code} → ${customer.code}; ${parent.key} is not it`);
          }
        }
      }

      const metrics = await checkObjectives(em, objectives);
      const own: ChainLevel<ChainObjective> = {
        agreementId: '',
        agreementKey: key,
        objectives: objectives.map((o, i) => ({
          metricId: metrics[i].id,
          metricCode: metrics[i].code,
          direction: metrics[i].direction,
          target: o.target,
          inheritance: o.inheritance ?? Inheritance.APPLIES,
        })),
      };
      const violations = await tightenAcrossMonths(em, { id: null, key, parentId: parent?.id ?? null }, own.objectives, terms.effectiveFrom);
      if (violations.length) {
        throw new UserErrorsException(
          violations.map((v) => new UserError(`objectives[${own.objectives.findIndex((o) => o.metricCode === v.metricCode)}].target`, UserErrorCode.LOOSENS, datedMessage(v, terms.effectiveFrom))),
        );
      }

      const agreement = em.create(Agreement, { key, tier: input.tier, title: input.title.trim(), provider, customer, service, parent, state: AgreementStatus.DRAFT });
      const version = createVersion(em, agreement, 1, terms.effectiveFrom, terms);
      objectives.forEach((o, i) => createObjective(em, version, metrics[i], o, i));
      await em.flush();
      await emitEvent(em, {
        type: 'agreement.awaiting_approval',
        occurredAt: ctx.request.now,
        agreement,
        payload: { status: 'DRAFT', tier: agreement.tier, title: agreement.title, providerCode: provider?.code ?? null, customerCode: customer?.code ?? null },
      });
      return agreement;
    },
    {
      uniqueField: 'key',
      guard: () => {
        // Checked before the idempotency lookup, as it always was: a CORPORATE agreement has no parties.
        if (input.tier === Tier.CORPORATE) assertMay(ctx, 'agreement:draft', { providerId: null, customerId: null }, () => 'Only an ADMIN drafts CORPORATE agreements');
      },
    },
  );
}

/** The terms a template copies when `terms` leaves them out (not contacts, effectiveTo or nextReviewDate: those are the pair's own). */
const COPIED_TERMS = [
  'complianceTarget',
  'monthlyCharge',
  'creditCapPercent',
  'reportDueWorkingDays',
  'acceptanceWorkingDays',
  'reviewCadenceMonths',
  'responsibilities',
  'escalationPolicy',
  'calendar',
] as const;

/**
 * `createAgreement(copyTermsFrom:)` (issue 16, templates): the terms and objectives of another
 * agreement's version in force at `now` (its latest before its first month), merged with the
 * input. A term given in `terms` wins over the copied one; an objective given replaces the copied
 * objective on its metric, or is added; given objectives come first (so their error paths are
 * theirs), the copied ones follow in their order. Only the template's own objectives are copied:
 * inherited ones come from the new agreement's own parent.
 */
async function copiedTerms(em: EntityManager, now: Date, ref: string, input: CreateAgreementInput): Promise<{ terms: TermsInput; objectives: ObjectiveInput[] }> {
  const found = agreementRef(ref);
  const template = await em.findOne(Agreement, found.where);
  if (!template) userError('copyTermsFrom', UserErrorCode.NOT_FOUND, `no agreement has ${found.by} ${ref}`);
  const versions = await em.find(AgreementVersion, { agreement: template.id }, { orderBy: { number: 'asc' } });
  const version = versionAt(versions, monthOf(now)) ?? (versions[versions.length - 1] as AgreementVersion);
  const copied = await em.find(Objective, { agreementVersion: version.id }, { orderBy: { position: 'asc' } });
  const terms = Object.assign(new TermsInput(), input.terms);
  for (const name of COPIED_TERMS) {
    if (terms[name] === undefined || terms[name] === null) Object.assign(terms, { [name]: structuredClone(version[name]) });
  }
  const given = input.objectives ?? [];
  const objectives: ObjectiveInput[] = [...given];
  for (const o of copied) {
    if (given.some((g) => g.metricId.toLowerCase() === o.metric.id)) continue;
    objectives.push(
      Object.assign(new ObjectiveInput(), { metricId: o.metric.id, target: o.target, warning: o.warning ?? null, weight: o.weight, creditPercent: o.creditPercent, inheritance: o.inheritance }),
    );
  }
  return { terms, objectives };
}

/** A version row with the terms given, defaults for the rest. */
export function createVersion(em: EntityManager, agreement: Agreement, number: number, effectiveMonth: Month, t: TermsInput): AgreementVersion {
  return em.create(AgreementVersion, {
    agreement,
    number,
    effectiveMonth,
    effectiveFrom: t.effectiveFrom,
    effectiveTo: t.effectiveTo ?? null,
    complianceTarget: t.complianceTarget ?? TERM_DEFAULTS.complianceTarget,
    monthlyCharge: t.monthlyCharge ?? TERM_DEFAULTS.monthlyCharge,
    creditCapPercent: t.creditCapPercent ?? TERM_DEFAULTS.creditCapPercent,
    reportDueWorkingDays: t.reportDueWorkingDays ?? TERM_DEFAULTS.reportDueWorkingDays,
    acceptanceWorkingDays: t.acceptanceWorkingDays ?? TERM_DEFAULTS.acceptanceWorkingDays,
    reviewCadenceMonths: t.reviewCadenceMonths ?? TERM_DEFAULTS.reviewCadenceMonths,
    nextReviewDate: t.nextReviewDate ?? null,
    responsibilities: (t.responsibilities ?? []).map((r) => ({ party: r.party, description: r.description.trim() })),
    contacts: (t.contacts ?? []).map((c) => ({ party: c.party, name: c.name.trim(), email: c.email.trim().toLowerCase(), role: c.role.trim() })),
    escalationPolicy: t.escalationPolicy ? (structuredClone({ ...t.escalationPolicy }) as EscalationPolicy) : TERM_DEFAULTS.escalationPolicy,
    calendar: t.calendar
      ? { timeZone: t.calendar.timeZone, workingDays: [...t.calendar.workingDays].sort(), dayStart: t.calendar.dayStart, dayEnd: t.calendar.dayEnd, holidays: [...t.calendar.holidays].sort() }
      : TERM_DEFAULTS.calendar,
  });
}

export function createObjective(em: EntityManager, version: AgreementVersion, metric: Metric, o: ObjectiveInput, position: number): Objective {
  return em.create(Objective, {
    agreementVersion: version,
    metric,
    position,
    target: o.target,
    warning: o.warning ?? null,
    weight: o.weight ?? 1,
    creditPercent: o.creditPercent ?? 0,
    inheritance: o.inheritance ?? Inheritance.APPLIES,
  });
}

// ------------------------------------------------------------------ lifecycle

export async function loadForTransition(
  em: EntityManager,
  ctx: Context,
  input: AgreementTransitionInput,
  what: 'approve' | 'suspend' | 'resume' | 'terminate',
): Promise<{ agreement: Agreement; party: ActingSide }> {
  // FOR UPDATE: transitions of one agreement run one after the other.
  const lockMode = rowLock(em, 'update');
  const agreement = await em.findOne(Agreement, input.id, lockMode ? { lockMode, refresh: true } : {});
  if (!agreement) userError('id', UserErrorCode.NOT_FOUND, `no agreement has id ${input.id}`);
  const parties = agreementParties(agreement);
  // A CORPORATE agreement has no parties, so the policy leaves it to admins.
  assertMay(
    ctx,
    `agreement:${what}`,
    parties,
    (p) => `A ${p.role} principal may not ${what} agreement ${agreement.key}: ${agreement.tier === Tier.CORPORATE ? 'only admins do' : "only admins and the parties' heads do"}`,
  );
  assertVersion(agreement, input.expectedVersion);
  return { agreement, party: sideIn(principalOf(ctx), parties) as ActingSide };
}

/** The transition is not allowed from the agreement's state. */
function illegal(agreement: Agreement, what: string): never {
  userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is ${agreement.state}; it cannot be ${what}`);
}

/**
 * Approves a DRAFT agreement for one party. CORPORATE: an admin's approval activates it. CUSTOMER
 * and SERVICE: each party's head approves (an admin names the party it approves for); with both
 * approvals the agreement becomes ACTIVE, if its parent is ACTIVE and, for CUSTOMER, no other
 * ACTIVE agreement covers the same pair.
 */
export function approveAgreement(ctx: Context, input: AgreementTransitionInput, now = ctx.request.now): Promise<MutationResult<Agreement>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { agreement, party } = await loadForTransition(em, ctx, input, 'approve');
    if (agreement.state !== AgreementStatus.DRAFT) illegal(agreement, 'approved');
    if (agreement.tier === Tier.CORPORATE) {
      agreement.providerApprovedAt = now;
      agreement.customerApprovedAt = now;
    } else {
      const side = party === 'ADMIN' ? input.party : party;
      if (!side) userError('party', UserErrorCode.REQUIRED, 'party: an admin approves for the PROVIDER or the CUSTOMER; name which');
      if (side === 'PROVIDER') agreement.providerApprovedAt ??= now;
      else agreement.customerApprovedAt ??= now;
    }
    if (agreement.providerApprovedAt && agreement.customerApprovedAt) {
      if (agreement.parent) {
        const parent = await em.findOneOrFail(Agreement, agreement.parent.id);
        if (parent.state !== AgreementStatus.ACTIVE) userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} cannot become ACTIVE under ${parent.key}, which is ${parent.state}`);
      }
      await assertPairFree(em, agreement);
      agreement.state = AgreementStatus.ACTIVE;
      agreement.activatedAt = now;
      touchLedger(em, now, { agreementId: agreement.id });
      await emitEvent(em, { type: 'agreement.activated', occurredAt: now, agreement, payload: { statusBefore: AgreementStatus.DRAFT, statusAfter: 'ACTIVE' } });
    }
    await em.flush();
    return agreement;
  });
}

/**
 * At most one live (ACTIVE or SUSPENDED) CUSTOMER agreement per provider → customer pair. The
 * check is serialised per provider department (its row locked FOR UPDATE on PostgreSQL), so two
 * activations for one pair cannot both pass it.
 */
export async function assertPairFree(em: EntityManager, agreement: Agreement): Promise<void> {
  if (agreement.tier !== Tier.CUSTOMER || !agreement.provider || !agreement.customer) return;
  const lockMode = rowLock(em, 'update');
  if (lockMode) await em.findOne(Department, agreement.provider.id, { lockMode, refresh: true });
  const other = await em.findOne(Agreement, {
    tier: Tier.CUSTOMER,
    state: { $in: [AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED] },
    provider: agreement.provider.id,
    customer: agreement.customer.id,
    id: { $ne: agreement.id },
  });
  if (other) userError('id', UserErrorCode.ILLEGAL_TRANSITION, `${other.key} is already the ${other.state} CUSTOMER agreement of this pair; terminate it first`);
}
