import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { touchLedger } from '../../common/ledger-touch';
import { isUUID } from 'class-validator';
import { IANAZone } from 'luxon';
import { paginate, type Page } from '../../common/connection';
import { assertIdArgument, BadUserInputError, NotFoundError } from '../../common/errors';
import { rowLock } from '../../common/locks';
import { loadForWrite } from '../../common/lookup';
import { compareMonths, monthOf, type Month } from '../../common/month';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserError, UserErrorCode, UserErrorsException, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import { localDateOf, monthEndsAt } from '../../common/working-time';
import { activeInMonth as pureActiveInMonth, versionAt as pureVersionAt } from '../../scoring/measured';
import type { Context } from '../../common/context';
import { principalOf } from '../../common/authorization';
import { type ActingSide, type AgreementParties, assertMay, sideIn } from '../../common/policy';
import { Metric, MetricDirection } from '../catalog/metric.entity';
import { Service } from '../catalog/service.entity';
import { Department } from '../departments/department.entity';
import {
  Agreement,
  AgreementStatus,
  AgreementVersion,
  Amendment,
  AmendmentStatus,
  type BusinessCalendar,
  type EscalationPolicy,
  Inheritance,
  Objective,
  Tier,
} from './agreement.entity';
import type { AgreementFilter, AgreementTransitionInput, CreateAgreementInput, ObjectiveInput, TermsInput } from './agreement.inputs';
import { type ChainLevel, type ChainObjective, violationMessage } from './inheritance';
import { type DatedViolation, tightenAcrossMonths } from './tighten';
import { loadManyOrThrow } from '../../common/loaders';

/** A violation's message, naming the month when it is not the first month of the change. */
export function datedMessage(v: DatedViolation, fromMonth: Month): string {
  const base = violationMessage(v);
  return v.month === fromMonth ? base : base.replace(/; an objective/, ` from ${v.month}; an objective`);
}

/** Defaults of terms the creator leaves out (see docs/decisions.md). */
export const TERM_DEFAULTS = {
  complianceTarget: 0.9,
  monthlyCharge: 0,
  creditCapPercent: 0,
  reportDueWorkingDays: 5,
  acceptanceWorkingDays: 5,
  reviewCadenceMonths: 12,
  escalationPolicy: {
    CRITICAL: { responseHours: 1, resolutionHours: 8 },
    HIGH: { responseHours: 4, resolutionHours: 24 },
    MEDIUM: { responseHours: 8, resolutionHours: 40 },
    LOW: { responseHours: 16, resolutionHours: 80 },
  } satisfies EscalationPolicy,
  calendar: { timeZone: 'UTC', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00', holidays: [] } satisfies BusinessCalendar,
};

// ------------------------------------------------------------------ queries

/** One agreement by id or key (exactly one); NOT_FOUND when there is none. */
export async function findAgreement(ctx: Context, id?: string | null, key?: string | null): Promise<Agreement> {
  if ((id ? 1 : 0) + (key ? 1 : 0) !== 1) throw new BadUserInputError('agreement: expected exactly one of id or key');
  const found = id
    ? isUUID(id)
      ? await ctx.loaders.agreementById.load(id)
      : null
    : await ctx.em.findOne(Agreement, { key: (key as string).trim().toUpperCase() });
  if (!found) throw new NotFoundError('Agreement', id ? `id ${id}` : `key ${key}`);
  return found;
}

/** The agreements connection, ordered by key. */
export async function listAgreements(ctx: Context, filter: AgreementFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Agreement>> {
  const where: FilterQuery<Agreement>[] = [];
  for (const f of ['providerId', 'customerId', 'serviceId'] as const) assertIdArgument(`filter.${f}`, filter?.[f]);
  if (filter?.tier) where.push({ tier: filter.tier });
  if (filter?.status) {
    const stored = [AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.TERMINATED] as string[];
    if (!stored.includes(filter.status)) {
      throw new BadUserInputError(`filter.status: expected DRAFT, ACTIVE, SUSPENDED or TERMINATED (EXPIRED is derived from effectiveTo: filter ACTIVE and read status), received ${JSON.stringify(filter.status)}`, 'filter.status');
    }
    where.push({ state: filter.status as AgreementStatus });
  }
  if (filter?.providerId) where.push({ provider: filter.providerId });
  if (filter?.customerId) where.push({ customer: filter.customerId });
  if (filter?.serviceId) where.push({ service: filter.serviceId });
  if (filter?.measuredOnly) {
    // Measured: ACTIVE CUSTOMER or SERVICE agreements without ACTIVE children (DESIGN §3).
    const parents = await ctx.em.find(Agreement, { state: AgreementStatus.ACTIVE, parent: { $ne: null } }, { fields: ['parent'], disableIdentityMap: true });
    const containers = [...new Set(parents.map((a) => a.parent?.id).filter((x): x is string => !!x))];
    where.push({ state: AgreementStatus.ACTIVE, tier: { $in: [Tier.CUSTOMER, Tier.SERVICE] } });
    // Nor past their last month (shown EXPIRED): only agreements with an ended version can be.
    // Candidates only (a month ahead of UTC, for zones east of it); displayStatus decides in the zone.
    const ended = await ctx.em.find(AgreementVersion, { effectiveTo: { $lt: monthOf(new Date(ctx.request.now.getTime() + 14 * 3_600_000)) } }, { fields: ['agreement'], disableIdentityMap: true });
    const endedIds = [...new Set(ended.map((v) => v.agreement.id))];
    const expired: string[] = [];
    if (endedIds.length) {
      const [rows, versions] = await Promise.all([
        ctx.em.find(Agreement, { id: { $in: endedIds } }),
        ctx.em.find(AgreementVersion, { agreement: { $in: endedIds } }),
      ]);
      for (const a of rows) if (displayStatus(a, versions.filter((v) => v.agreement.id === a.id), ctx.request.now) === AgreementStatus.EXPIRED) expired.push(a.id);
    }
    const excluded = [...containers, ...expired];
    if (excluded.length) where.push({ id: { $nin: excluded } });
  }
  return paginate(ctx.em, Agreement, { $and: where }, [['key', 'asc'], ['id', 'asc']], page);
}

/** The version in force in `month` (the pure rule of `src/scoring/measured.ts`). */
export function versionAt(versions: AgreementVersion[], month: Month): AgreementVersion | null {
  return pureVersionAt(versions, month);
}

/** The status shown: EXPIRED once the last month of the version now in force has passed. */
export function displayStatus(agreement: Agreement, versions: AgreementVersion[], now: Date): AgreementStatus {
  // The month now, and its end, in the agreement's own time zone (as for rule 0), not in UTC.
  const zone = versions[versions.length - 1]?.calendar ?? { timeZone: 'UTC' };
  const current = localDateOf(zone, now).slice(0, 7);
  const latest = versionAt(versions, current) ?? versions[versions.length - 1];
  if ((agreement.state === AgreementStatus.ACTIVE || agreement.state === AgreementStatus.SUSPENDED) && latest?.effectiveTo && now.getTime() >= monthEndsAt(latest.calendar, latest.effectiveTo).getTime()) {
    return AgreementStatus.EXPIRED;
  }
  return agreement.state;
}

/** An objective with its metric's direction and code, as the inheritance rules need them. */
export type LoadedObjective = ChainObjective & { objective: Objective };

/**
 * The chain from an agreement up to its root, each level with the objectives of its version in
 * force in `month`, through the request's loaders: resolving this for a whole list of
 * agreements costs a fixed number of batched statements per tree level.
 */
export async function chainAt(ctx: Pick<Context, 'loaders'>, agreement: Agreement, month: Month): Promise<ChainLevel<LoadedObjective>[]> {
  const chain: ChainLevel<LoadedObjective>[] = [];
  let current: Agreement | null = agreement;
  for (let depth = 0; current && depth < 5; depth++) {
    const versions = await ctx.loaders.versionsByAgreement.load(current.id);
    const version = versionAt(versions, month);
    // Before its first version an agreement governs nothing, inherited or not.
    if (depth === 0 && !version) return [];
    const objectives = version ? await ctx.loaders.objectivesByVersion.load(version.id) : [];
    const metrics = await loadManyOrThrow(ctx.loaders.metricById, objectives.map((o) => o.metric.id), 'Metric');
    chain.push({
      agreementId: current.id,
      agreementKey: current.key,
      objectives: objectives.map((o, i) => {
        const metric = metrics[i];
        return { metricId: metric.id, metricCode: metric.code, direction: metric.direction, target: o.target, inheritance: o.inheritance, objective: o };
      }),
    });
    current = current.parent ? await ctx.loaders.agreementById.load(current.parent.id) : null;
  }
  return chain;
}

// ------------------------------------------------------------------ creation

function partiesOf(input: CreateAgreementInput): Array<[keyof CreateAgreementInput, string | null | undefined]> {
  return [
    ['providerId', input.providerId],
    ['customerId', input.customerId],
    ['serviceId', input.serviceId],
    ['parentId', input.parentId],
  ];
}

/** Validates terms beyond single fields: months in order, a real time zone, a working day. */
export function termProblems(terms: TermsInput, prefix = 'terms'): UserError[] {
  const out: UserError[] = [];
  if (terms.effectiveTo && compareMonths(terms.effectiveTo, terms.effectiveFrom) < 0) {
    out.push(new UserError(`${prefix}.effectiveTo`, UserErrorCode.INVALID, `effectiveTo: expected ${terms.effectiveFrom} or later, received ${terms.effectiveTo}`));
  }
  const cal = terms.calendar;
  if (cal) {
    if (!IANAZone.isValidZone(cal.timeZone)) out.push(new UserError(`${prefix}.calendar.timeZone`, UserErrorCode.INVALID, `timeZone: expected an IANA time zone such as Europe/Berlin, received ${JSON.stringify(cal.timeZone)}`));
    if (!cal.workingDays.length || new Set(cal.workingDays).size !== cal.workingDays.length) {
      out.push(new UserError(`${prefix}.calendar.workingDays`, UserErrorCode.INVALID, 'workingDays: expected at least one weekday, each once'));
    }
    if (cal.dayStart >= cal.dayEnd) out.push(new UserError(`${prefix}.calendar.dayEnd`, UserErrorCode.INVALID, `dayEnd: expected after dayStart (${cal.dayStart}), received ${cal.dayEnd}`));
    cal.holidays.forEach((h, i) => {
      if (Number.isNaN(Date.parse(`${h}T00:00:00Z`))) out.push(new UserError(`${prefix}.calendar.holidays[${i}]`, UserErrorCode.INVALID, `holidays: ${h} is not a date`));
    });
  }
  const policy = terms.escalationPolicy;
  if (policy) {
    for (const sev of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const) {
      if (policy[sev].resolutionHours < policy[sev].responseHours) {
        out.push(new UserError(`${prefix}.escalationPolicy.${sev}.resolutionHours`, UserErrorCode.INVALID, `resolutionHours: expected at least the response time (${policy[sev].responseHours}), received ${policy[sev].resolutionHours}`));
      }
    }
  }
  if (terms.nextReviewDate && Number.isNaN(Date.parse(`${terms.nextReviewDate}T00:00:00Z`))) {
    out.push(new UserError(`${prefix}.nextReviewDate`, UserErrorCode.INVALID, `nextReviewDate: ${terms.nextReviewDate} is not a date`));
  }
  return out;
}

/**
 * Loads and checks the objectives of a version: metrics exist and are live, each metric once,
 * targets and warnings within the metric's bounds, the warning on the safe side of the target.
 */
export async function checkObjectives(em: EntityManager, objectives: ObjectiveInput[]): Promise<Metric[]> {
  const ids = [...new Set(objectives.map((o) => o.metricId))];
  const metrics = new Map((await em.find(Metric, { id: { $in: ids } })).map((m) => [m.id, m]));
  const errors: UserError[] = [];
  const seen = new Set<string>();
  objectives.forEach((o, i) => {
    const at = `objectives[${i}]`;
    const metric = metrics.get(o.metricId);
    if (!metric) return errors.push(new UserError(`${at}.metricId`, UserErrorCode.NOT_FOUND, `no metric has id ${o.metricId}`));
    if (metric.archivedAt) errors.push(new UserError(`${at}.metricId`, UserErrorCode.ARCHIVED, `metric ${metric.code} is archived`));
    if (seen.has(metric.id)) errors.push(new UserError(`${at}.metricId`, UserErrorCode.INVALID, `metric ${metric.code} appears twice; one objective per metric`));
    seen.add(metric.id);
    const bounds = (field: 'target' | 'warning', v: number) => {
      if ((metric.minValue != null && v < metric.minValue) || (metric.maxValue != null && v > metric.maxValue)) {
        errors.push(new UserError(`${at}.${field}`, UserErrorCode.INVALID, `${field}: expected a value of ${metric.code} from ${metric.minValue ?? '−∞'} to ${metric.maxValue ?? '∞'}, received ${v}`));
      }
      if (metric.integerOnly && !Number.isInteger(v)) errors.push(new UserError(`${at}.${field}`, UserErrorCode.INVALID, `${field}: ${metric.code} takes whole numbers, received ${v}`));
    };
    bounds('target', o.target);
    if (o.warning != null) {
      bounds('warning', o.warning);
      const higher = metric.direction === MetricDirection.HIGHER_IS_BETTER;
      if (higher ? o.warning < o.target : o.warning > o.target) {
        errors.push(new UserError(`${at}.warning`, UserErrorCode.INVALID, `warning: ${metric.code} is ${metric.direction}, so the warning must be ${higher ? 'at or above' : 'at or below'} the target ${o.target}; received ${o.warning}`));
      }
    }
  });
  if (errors.length) throw new UserErrorsException(errors);
  return objectives.map((o) => metrics.get(o.metricId) as Metric);
}

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
        required('parentId', input.parentId, input.tier === Tier.CUSTOMER ? 'a CUSTOMER agreement sits under a CORPORATE agreement' : 'a SERVICE agreement sits under the CUSTOMER agreement of its pair');
        if (input.tier === Tier.SERVICE) required('serviceId', input.serviceId, 'a SERVICE agreement is about one service of the provider');
        else if (input.serviceId) errors.push(new UserError('serviceId', UserErrorCode.INVALID, 'serviceId: only SERVICE agreements name a service'));
        if (input.providerId && input.customerId && input.providerId.toLowerCase() === input.customerId.toLowerCase()) {
          errors.push(new UserError('customerId', UserErrorCode.INVALID, 'customerId: the customer must be another department than the provider'));
        }
      }
      errors.push(...termProblems(input.terms));
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
        assertMay(ctx, 'agreement:draft', { providerId: provider.id, customerId: customer.id }, (p) => `A ${p.role} principal may not draft agreements between ${pair}: only admins and the parties' heads do`);
        // FOR SHARE: the parent cannot be terminated or amended under us before we commit.
        const lockMode = rowLock(em, 'share');
        parent = await em.findOne(Agreement, input.parentId as string, lockMode ? { lockMode, refresh: true } : {});
        if (!parent) userError('parentId', UserErrorCode.NOT_FOUND, `no agreement has id ${input.parentId}`);
        if (parent.state === AgreementStatus.TERMINATED) userError('parentId', UserErrorCode.ARCHIVED, `agreement ${parent.key} is terminated`);
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

      const metrics = await checkObjectives(em, input.objectives);
      const own: ChainLevel<ChainObjective> = {
        agreementId: '',
        agreementKey: key,
        objectives: input.objectives.map((o, i) => ({ metricId: metrics[i].id, metricCode: metrics[i].code, direction: metrics[i].direction, target: o.target, inheritance: o.inheritance ?? Inheritance.APPLIES })),
      };
      const violations = await tightenAcrossMonths(em, { id: null, key, parentId: parent?.id ?? null }, own.objectives, input.terms.effectiveFrom);
      if (violations.length) {
        throw new UserErrorsException(
          violations.map((v) => new UserError(`objectives[${own.objectives.findIndex((o) => o.metricCode === v.metricCode)}].target`, UserErrorCode.LOOSENS, datedMessage(v, input.terms.effectiveFrom))),
        );
      }

      const agreement = em.create(Agreement, { key, tier: input.tier, title: input.title.trim(), provider, customer, service, parent, state: AgreementStatus.DRAFT });
      const version = createVersion(em, agreement, 1, input.terms.effectiveFrom, input.terms);
      input.objectives.forEach((o, i) => createObjective(em, version, metrics[i], o, i));
      await em.flush();
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
    escalationPolicy: t.escalationPolicy ? structuredClone({ ...t.escalationPolicy }) as EscalationPolicy : TERM_DEFAULTS.escalationPolicy,
    calendar: t.calendar ? { timeZone: t.calendar.timeZone, workingDays: [...t.calendar.workingDays].sort(), dayStart: t.calendar.dayStart, dayEnd: t.calendar.dayEnd, holidays: [...t.calendar.holidays].sort() } : TERM_DEFAULTS.calendar,
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

/** An agreement as the authorization policy sees it: its parties' department ids (none for CORPORATE). */
export function agreementParties(agreement: Agreement): AgreementParties {
  return { providerId: agreement.provider?.id ?? null, customerId: agreement.customer?.id ?? null };
}

async function loadForTransition(em: EntityManager, ctx: Context, input: AgreementTransitionInput, what: 'approve' | 'suspend' | 'resume' | 'terminate'): Promise<{ agreement: Agreement; party: ActingSide }> {
  // FOR UPDATE: transitions of one agreement run one after the other.
  const lockMode = rowLock(em, 'update');
  const agreement = await em.findOne(Agreement, input.id, lockMode ? { lockMode, refresh: true } : {});
  if (!agreement) userError('id', UserErrorCode.NOT_FOUND, `no agreement has id ${input.id}`);
  const parties = agreementParties(agreement);
  // A CORPORATE agreement has no parties, so the policy leaves it to admins.
  assertMay(ctx, `agreement:${what}`, parties, (p) => `A ${p.role} principal may not ${what} agreement ${agreement.key}: ${agreement.tier === Tier.CORPORATE ? 'only admins do' : "only admins and the parties' heads do"}`);
  assertVersion(agreement, input.expectedVersion);
  return { agreement, party: sideIn(principalOf(ctx), parties) as ActingSide };
}

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
async function assertPairFree(em: EntityManager, agreement: Agreement): Promise<void> {
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

/** ACTIVE → SUSPENDED (admins or the parties' heads); the suspension's start is kept. */
export function suspendAgreement(ctx: Context, input: AgreementTransitionInput, now = ctx.request.now): Promise<MutationResult<Agreement>> {
  return transition(ctx, input, 'suspend', [AgreementStatus.ACTIVE], AgreementStatus.SUSPENDED, 'suspended', async (_em, agreement) => {
    agreement.suspensions = [...agreement.suspensions, { from: now.toISOString(), to: null }];
  });
}

/** SUSPENDED → ACTIVE (admins or the parties' heads); the open suspension ends now. */
export function resumeAgreement(ctx: Context, input: AgreementTransitionInput, now = ctx.request.now): Promise<MutationResult<Agreement>> {
  return transition(ctx, input, 'resume', [AgreementStatus.SUSPENDED], AgreementStatus.ACTIVE, 'resumed', async (em, agreement) => {
    await assertPairFree(em, agreement);
    agreement.suspensions = agreement.suspensions.map((s) => (s.to ? s : { ...s, to: now.toISOString() }));
  });
}

/**
 * Whether an agreement was ACTIVE in a month (DESIGN §5: only ACTIVE months are scored and
 * reported). It was when it has been activated (activation covers the months of its terms from
 * `effectiveFrom`, so an agreement signed on the 10th governs its whole first month), the month
 * lies within the terms of the version in force, it was not terminated before the month began,
 * and no suspension covered the whole month. Months are UTC calendar months.
 */
export function activeInMonth(agreement: Agreement, versions: AgreementVersion[], month: Month): boolean {
  return pureActiveInMonth(agreement, versions, month);
}

/** DRAFT, ACTIVE or SUSPENDED → TERMINATED, unless live agreements sit under it. */
export function terminateAgreement(ctx: Context, input: AgreementTransitionInput, now = ctx.request.now): Promise<MutationResult<Agreement>> {
  return transition(ctx, input, 'terminate', [AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED], AgreementStatus.TERMINATED, 'terminated', async (em, agreement) => {
    const live = await em.count(Agreement, { parent: agreement.id, state: { $in: [AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.DRAFT] } });
    if (live) userError('id', UserErrorCode.IN_USE, `agreement ${agreement.key} still has ${live} live agreement(s) under it; terminate those first`);
    agreement.terminatedAt = now;
    // Pending change control ends with the agreement.
    for (const pending of await em.find(Amendment, { agreement: agreement.id, status: AmendmentStatus.PROPOSED })) {
      pending.status = AmendmentStatus.WITHDRAWN;
      pending.decidedAt = now;
      pending.decidedByUserId = principalOf(ctx).userId;
    }
  });
}

function transition(
  ctx: Context,
  input: AgreementTransitionInput,
  verb: 'suspend' | 'resume' | 'terminate',
  from: AgreementStatus[],
  to: AgreementStatus,
  participle: string,
  extra: (em: EntityManager, agreement: Agreement) => Promise<void> = async () => undefined,
): Promise<MutationResult<Agreement>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { agreement } = await loadForTransition(em, ctx, input, verb);
    if (!from.includes(agreement.state)) illegal(agreement, participle);
    // Past its last month an agreement can only be terminated (for the record).
    if (to !== AgreementStatus.TERMINATED && displayStatus(agreement, await em.find(AgreementVersion, { agreement: agreement.id }), ctx.request.now) === AgreementStatus.EXPIRED) {
      userError('id', UserErrorCode.ILLEGAL_TRANSITION, `agreement ${agreement.key} is EXPIRED; it cannot be ${participle}`);
    }
    await extra(em, agreement);
    agreement.state = to;
    await em.flush();
    touchLedger(em, ctx.request.now, { agreementId: agreement.id });
    return agreement;
  });
}

