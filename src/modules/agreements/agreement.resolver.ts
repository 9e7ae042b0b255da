import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Float, ID, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import type { Month } from '../../common/month';
import { DateScalar, MonthScalar } from '../../common/scalars';
import { PartyRole } from '../../common/sides';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Metric } from '../catalog/metric.entity';
import { Service } from '../catalog/service.entity';
import { Department } from '../departments/department.entity';
import { Agreement, AgreementStatus, AgreementVersion, Amendment, Inheritance, Objective } from './agreement.entity';
import { AgreementFilter, AgreementTransitionInput, AmendmentDecisionInput, AmendmentFilter, CreateAgreementInput, ProposeAmendmentInput } from './agreement.inputs';
import * as amendments from './amendment.service';
import { GraphQLJSONObject } from 'graphql-scalars';
import * as agreements from './agreement.service';
import * as lifecycle from './lifecycle.service';
import { LifecycleRequestKind } from './lifecycle.entity';
import { versionAt, displayStatus, objectiveKey } from './agreement.rules';
import { findAgreement, listAgreements, chainAt } from './agreement.queries';
import { effectiveObjectives } from './inheritance';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';
import type { BusinessCalendar as BusinessCalendarShape } from '../../common/working-time';

@ObjectType()
export class AgreementConnection extends Connection(Agreement) {}

@ObjectType()
export class AmendmentConnection extends Connection(Amendment) {}

@ObjectType()
export class AgreementPayload {
  @Field(() => Agreement, { nullable: true })
  agreement!: Agreement | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType({ description: 'Who owes what, in the agreement’s words.' })
export class Responsibility {
  @Field(() => PartyRole)
  party!: string;

  @Field()
  description!: string;
}

@ObjectType()
export class Contact {
  @Field(() => PartyRole)
  party!: string;

  @Field()
  name!: string;

  @Field()
  email!: string;

  @Field()
  role!: string;
}

@ObjectType({ description: 'Targets in working hours (CRITICAL: clock hours).' })
export class EscalationTarget {
  @Field(() => Float)
  responseHours!: number;

  @Field(() => Float)
  resolutionHours!: number;
}

@ObjectType()
export class EscalationPolicy {
  @Field(() => EscalationTarget)
  CRITICAL!: EscalationTarget;

  @Field(() => EscalationTarget)
  HIGH!: EscalationTarget;

  @Field(() => EscalationTarget)
  MEDIUM!: EscalationTarget;

  @Field(() => EscalationTarget)
  LOW!: EscalationTarget;
}

/** The GraphQL view of a stored calendar; `implements` ties it to the one shape in common/working-time. */
@ObjectType({ description: 'The business calendar clocks and due dates count in.' })
export class BusinessCalendar implements BusinessCalendarShape {
  @Field()
  timeZone!: string;

  @Field(() => [Int], { description: 'ISO weekdays, 1 = Monday … 7 = Sunday.' })
  workingDays!: number[];

  @Field()
  dayStart!: string;

  @Field()
  dayEnd!: string;

  @Field(() => [DateScalar], { description: 'Local dates on which nobody works.' })
  holidays!: string[];
}

/** The terms of an objective as views show them; an @ObjectType so subclasses inherit its fields (the schema never shows it). */
@ObjectType({ description: 'The terms of one objective, before or after an amendment.' })
export class ObjectiveTermsView {
  @Field(() => Float)
  target!: number;

  @Field(() => Float, { nullable: true })
  warning!: number | null;

  @Field(() => Float)
  weight!: number;

  @Field(() => Float)
  creditPercent!: number;
}

@ObjectType('ObjectiveTermsFields')
export abstract class ObjectiveTermsFields extends ObjectiveTermsView {
  @Field(() => Metric)
  metric!: Metric;
}

@ObjectType({ description: 'An objective in force for an agreement in a month, and where it came from.' })
export class EffectiveObjective extends ObjectiveTermsFields {
  @Field(() => ID, { description: 'The objective (of this agreement or of an ancestor), in the version in force: changes with every version.' })
  id!: string;

  @Field({ description: 'Stable across versions: the defining agreement’s key and the metric’s code, `MKT-SALES/LEAD_VOLUME`. Taken wherever an objective id is.' })
  key!: string;

  @Field(() => Inheritance)
  inheritance!: Inheritance;

  @Field(() => Agreement, { nullable: true, description: 'The ancestor that defines it; null for the agreement’s own objectives.' })
  inheritedFrom!: Agreement | null;
}

@Resolver(() => Agreement)
export class AgreementResolver {
  @Authorized()
  @Query(() => Agreement, { description: 'One agreement, by id or by key (exactly one).' })
  agreement(@Ctx() ctx: Context, @Arg('id', () => ID, { nullable: true }) id?: string, @Arg('key', () => String, { nullable: true }) key?: string): Promise<Agreement> {
    return findAgreement(ctx, id, key);
  }

  @Authorized()
  @Query(() => AgreementConnection, { description: 'Agreements, by key.' })
  agreements(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => AgreementFilter, { nullable: true }) filter?: AgreementFilter): Promise<AgreementConnection> {
    return listAgreements(ctx, filter, page);
  }

  @Authorized()
  @Query(() => AmendmentConnection, { name: 'amendments', description: 'Amendments across agreements, newest first: by status, by department (either side), by agreement.' })
  amendmentList(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => AmendmentFilter, { nullable: true }) filter?: AmendmentFilter): Promise<AmendmentConnection> {
    return amendments.listAmendments(ctx, filter, page);
  }

  @FieldResolver(() => AgreementStatus, { description: 'Lifecycle state; EXPIRED once the last month (effectiveTo) has passed.' })
  async status(@Root() a: Agreement, @Ctx() ctx: Context): Promise<AgreementStatus> {
    return displayStatus(a, await ctx.loaders.versionsByAgreement.load(a.id), ctx.request.now);
  }

  @FieldResolver(() => Department, { nullable: true })
  provider(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Department | null> | null {
    return a.provider ? ctx.loaders.departmentById.load(a.provider.id) : null;
  }

  @FieldResolver(() => Department, { nullable: true })
  customer(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Department | null> | null {
    return a.customer ? ctx.loaders.departmentById.load(a.customer.id) : null;
  }

  @FieldResolver(() => Service, { nullable: true })
  service(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Service | null> | null {
    return a.service ? ctx.loaders.serviceById.load(a.service.id) : null;
  }

  @FieldResolver(() => Agreement, { nullable: true })
  parent(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Agreement | null> | null {
    return a.parent ? ctx.loaders.agreementById.load(a.parent.id) : null;
  }

  @FieldResolver(() => [Agreement], { description: 'Agreements directly under this one, by key.' })
  children(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Agreement[]> {
    return ctx.loaders.agreementChildren.load(a.id);
  }

  @FieldResolver(() => [Amendment], { description: 'Proposed, approved, rejected and withdrawn amendments, oldest first.' })
  amendments(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Amendment[]> {
    return ctx.loaders.amendmentsByAgreement.load(a.id);
  }

  @FieldResolver(() => [AgreementVersion], { description: 'Every version, oldest first: which terms governed which months.' })
  versions(@Root() a: Agreement, @Ctx() ctx: Context): Promise<AgreementVersion[]> {
    return ctx.loaders.versionsByAgreement.load(a.id);
  }

  // `version` on an agreement means its terms (DESIGN §2); the row's optimistic-lock counter,
  // `version` on every other type, is `lockVersion` here.
  @FieldResolver(() => Int, { description: 'Optimistic-concurrency version of the agreement itself; pass it back as `expectedVersion`.' })
  lockVersion(@Root() a: Agreement): number {
    return a.version;
  }

  @FieldResolver(() => AgreementVersion, { nullable: true, description: 'The version (terms and objectives) in force in a month; null before the first.' })
  async version(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('at', () => MonthScalar) at: Month): Promise<AgreementVersion | null> {
    return versionAt(await ctx.loaders.versionsByAgreement.load(a.id), at);
  }

  @FieldResolver(() => [EffectiveObjective], {
    description: 'Objectives in force in a month: its own, then the APPLIES objectives of its ancestors; the lower level wins (DESIGN §3).',
  })
  async effectiveObjectives(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('at', () => MonthScalar) at: Month): Promise<EffectiveObjective[]> {
    const chain = await chainAt(ctx, a, at);
    const effective = effectiveObjectives(chain);
    return Promise.all(
      effective.map(async ({ objective: { objective: o, metricId, metricCode }, inheritedFrom }) => {
        const ancestor = inheritedFrom ? await ctx.loaders.agreementById.load(inheritedFrom) : null;
        return {
          id: o.id,
          key: objectiveKey(ancestor?.key ?? a.key, metricCode),
          metric: await loadOrThrow(ctx.loaders.metricById, metricId, 'Metric'),
          target: o.target,
          warning: o.warning ?? null,
          weight: o.weight,
          creditPercent: o.creditPercent,
          inheritance: o.inheritance,
          inheritedFrom: ancestor,
        };
      }),
    );
  }

  @Authorized()
  @Mutation(() => AgreementPayload, { description: 'Drafts an agreement with its first version.' })
  async createAgreement(@Ctx() ctx: Context, @Arg('input') input: CreateAgreementInput): Promise<AgreementPayload> {
    const r = await agreements.createAgreement(ctx, input);
    return payload('agreement', r);
  }

  @Authorized()
  @Mutation(() => AgreementPayload, { description: "Approves a DRAFT for a party; both parties' approval (an admin's for CORPORATE) activates it." })
  async approveAgreement(@Ctx() ctx: Context, @Arg('input') input: AgreementTransitionInput): Promise<AgreementPayload> {
    const r = await agreements.approveAgreement(ctx, input);
    return payload('agreement', r);
  }

  @Authorized()
  @Mutation(() => AgreementPayload, {
    description:
      "ACTIVE → SUSPENDED, with a reason. An admin (any admin for CORPORATE) suspends at once; a party's head only asks: the other party's head (or an admin) approves with approveLifecycleRequest.",
  })
  async suspendAgreement(@Ctx() ctx: Context, @Arg('input') input: AgreementTransitionInput): Promise<AgreementPayload> {
    const r = await lifecycle.changeLifecycle(ctx, input, LifecycleRequestKind.SUSPEND);
    return payload('agreement', r);
  }

  @Authorized()
  @Mutation(() => AgreementPayload, { description: "SUSPENDED → ACTIVE, with a reason. An admin resumes at once; a party's head only asks, as for suspendAgreement." })
  async resumeAgreement(@Ctx() ctx: Context, @Arg('input') input: AgreementTransitionInput): Promise<AgreementPayload> {
    const r = await lifecycle.changeLifecycle(ctx, input, LifecycleRequestKind.RESUME);
    return payload('agreement', r);
  }

  @Authorized()
  @Mutation(() => AgreementPayload, {
    description:
      "Ends an agreement without live agreements under it, with a reason and (ACTIVE or SUSPENDED) the first month out of scope, `effectiveMonth`, this month or later. An admin terminates at once (a later month is scheduled); a party's head only asks, except for a DRAFT, which it ends at once.",
  })
  async terminateAgreement(@Ctx() ctx: Context, @Arg('input') input: AgreementTransitionInput): Promise<AgreementPayload> {
    const r = await lifecycle.changeLifecycle(ctx, input, LifecycleRequestKind.TERMINATE);
    return payload('agreement', r);
  }
}

@ObjectType()
export class AmendmentPayload {
  @Field(() => Amendment, { nullable: true })
  amendment!: Amendment | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

export enum ObjectiveChangeKind {
  ADD = 'ADD',
  CHANGE = 'CHANGE',
  REMOVE = 'REMOVE',
}
registerEnumType(ObjectiveChangeKind, { name: 'ObjectiveChangeKind' });

@ObjectType({ description: 'One objective an amendment adds, changes or removes: its metric, and its terms before and after.' })
export class ObjectiveChange {
  @Field(() => ObjectiveChangeKind)
  kind!: ObjectiveChangeKind;

  @Field(() => Metric)
  metric!: Metric;

  @Field(() => ObjectiveTermsView, { nullable: true, description: 'In the version the amendment changes (null for an added objective).' })
  before!: ObjectiveTermsView | null;

  @Field(() => ObjectiveTermsView, { nullable: true, description: 'As the amendment sets them (null for a removed objective).' })
  after!: ObjectiveTermsView | null;
}

const termsOf = (o: { target: number; warning?: number | null; weight: number; creditPercent: number }): ObjectiveTermsView => ({
  target: o.target,
  warning: o.warning ?? null,
  weight: o.weight,
  creditPercent: o.creditPercent,
});

@Resolver(() => Amendment)
export class AmendmentResolver {
  @FieldResolver(() => [ObjectiveChange], {
    description:
      "Its objective changes by metric code, with the terms before (the agreement's own objectives in the version it amends: in force in its effective month, its own resulting version aside) and after.",
  })
  async objectiveChanges(@Root() a: Amendment, @Ctx() ctx: Context): Promise<ObjectiveChange[]> {
    const versions = (await loadOrThrow(ctx.loaders.versionsByAgreement, a.agreement.id, 'versions')).filter((v) => v.id !== a.resultingVersion?.id);
    const base = versionAt(versions, a.effectiveMonth) ?? versions[versions.length - 1] ?? null;
    const current = base ? await loadOrThrow(ctx.loaders.objectivesByVersion, base.id, 'objectives') : [];
    const beforeOf = (metricId: string) => current.find((o) => o.metric.id === metricId) ?? null;
    const metric = (id: string) => loadOrThrow(ctx.loaders.metricById, id, 'Metric');
    const out: ObjectiveChange[] = [];
    for (const spec of a.changes.addObjectives) {
      out.push({ kind: ObjectiveChangeKind.ADD, metric: await metric(spec.metricId), before: null, after: termsOf({ weight: 1, creditPercent: 0, ...spec }) });
    }
    for (const spec of a.changes.changeObjectives) {
      const before = beforeOf(spec.metricId);
      const after = before ? termsOf({ ...termsOf(before), ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) } as ObjectiveTermsView) : null;
      out.push({ kind: ObjectiveChangeKind.CHANGE, metric: await metric(spec.metricId), before: before ? termsOf(before) : null, after });
    }
    for (const metricId of a.changes.removeObjectives) {
      const before = beforeOf(metricId);
      out.push({ kind: ObjectiveChangeKind.REMOVE, metric: await metric(metricId), before: before ? termsOf(before) : null, after: null });
    }
    return out;
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() a: Amendment, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, a.agreement.id, 'Agreement');
  }

  @FieldResolver(() => GraphQLJSONObject, { description: 'terms (changed terms), addObjectives, changeObjectives (by metricId), removeObjectives (metric ids).' })
  changes(@Root() a: Amendment): Record<string, unknown> {
    return a.changes as unknown as Record<string, unknown>;
  }

  @FieldResolver(() => AgreementVersion, { nullable: true, description: 'The version its approval created.' })
  resultingVersion(@Root() a: Amendment, @Ctx() ctx: Context): Promise<AgreementVersion | null> | null {
    return a.resultingVersion ? ctx.loaders.versionById.load(a.resultingVersion.id) : null;
  }

  @Authorized()
  @Mutation(() => AmendmentPayload, { description: "Proposes a change of terms from a month on; the other party's approval makes it a new version." })
  async proposeAmendment(@Ctx() ctx: Context, @Arg('input') input: ProposeAmendmentInput): Promise<AmendmentPayload> {
    const r = await amendments.proposeAmendment(ctx, input);
    return payload('amendment', r);
  }

  @Authorized()
  @Mutation(() => AmendmentPayload)
  async approveAmendment(@Ctx() ctx: Context, @Arg('input') input: AmendmentDecisionInput): Promise<AmendmentPayload> {
    const r = await amendments.approveAmendment(ctx, input);
    return payload('amendment', r);
  }

  @Authorized()
  @Mutation(() => AmendmentPayload)
  async rejectAmendment(@Ctx() ctx: Context, @Arg('input') input: AmendmentDecisionInput): Promise<AmendmentPayload> {
    const r = await amendments.rejectAmendment(ctx, input);
    return payload('amendment', r);
  }

  @Authorized()
  @Mutation(() => AmendmentPayload)
  async withdrawAmendment(@Ctx() ctx: Context, @Arg('input') input: AmendmentDecisionInput): Promise<AmendmentPayload> {
    const r = await amendments.withdrawAmendment(ctx, input);
    return payload('amendment', r);
  }
}

@Resolver(() => AgreementVersion)
export class AgreementVersionResolver {
  @FieldResolver(() => [Objective], { description: 'This version’s own objectives.' })
  objectives(@Root() v: AgreementVersion, @Ctx() ctx: Context): Promise<Objective[]> {
    return ctx.loaders.objectivesByVersion.load(v.id);
  }

  @FieldResolver(() => [Responsibility])
  responsibilities(@Root() v: AgreementVersion): Responsibility[] {
    return v.responsibilities;
  }

  @FieldResolver(() => [Contact])
  contacts(@Root() v: AgreementVersion): Contact[] {
    return v.contacts;
  }

  @FieldResolver(() => EscalationPolicy)
  escalationPolicy(@Root() v: AgreementVersion): EscalationPolicy {
    return v.escalationPolicy;
  }

  @FieldResolver(() => BusinessCalendar)
  calendar(@Root() v: AgreementVersion): BusinessCalendar {
    return v.calendar;
  }
}

@Resolver(() => Objective)
export class ObjectiveResolver {
  @FieldResolver(() => Metric)
  async metric(@Root() o: Objective, @Ctx() ctx: Context): Promise<Metric> {
    return await loadOrThrow(ctx.loaders.metricById, o.metric.id, 'Metric');
  }

  @FieldResolver(() => String, {
    description:
      'Stable across versions (the id changes with every version): the agreement’s key and the metric’s code, `MKT-SALES/LEAD_VOLUME`. Taken wherever an objective id is (report values, exclusions).',
  })
  async key(@Root() o: Objective, @Ctx() ctx: Context): Promise<string> {
    const version = await loadOrThrow(ctx.loaders.versionById, o.agreementVersion.id, 'AgreementVersion');
    const [agreement, metric] = await Promise.all([loadOrThrow(ctx.loaders.agreementById, version.agreement.id, 'Agreement'), loadOrThrow(ctx.loaders.metricById, o.metric.id, 'Metric')]);
    return objectiveKey(agreement.key, metric.code);
  }
}

@Resolver(() => Department)
export class DepartmentAgreementsResolver {
  @FieldResolver(() => [Agreement], { description: 'Agreements in which this department is the provider, by key.' })
  providedAgreements(@Root() d: Department, @Ctx() ctx: Context): Promise<Agreement[]> {
    return ctx.loaders.agreementsByProvider.load(d.id);
  }

  @FieldResolver(() => [Agreement], { description: 'Agreements in which this department is the customer, by key.' })
  receivedAgreements(@Root() d: Department, @Ctx() ctx: Context): Promise<Agreement[]> {
    return ctx.loaders.agreementsByCustomer.load(d.id);
  }
}
