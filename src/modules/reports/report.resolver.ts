import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Float, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import { NotFoundError } from '../../common/errors';
import type { Month } from '../../common/month';
import { DateScalar, DateTimeScalar, MonthScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Agreement, Objective } from '../agreements/agreement.entity';
import { rolesFor } from '../../common/policy';
import { Metric } from '../catalog/metric.entity';
import { Exclusion, FrictionCategory, frictionItemsOf, Report, ReportRevision, ReportStatus, ReportValue } from './report.entity';
import { Severity } from '../../common/severity';
import { DisputeReportInput, ReportDecisionInput, ReportFilter, SaveReportDraftInput, SettleDisputeInput, SubmitReportInput } from './report.inputs';
import * as reports from './report.service';
import { OverdueReport } from './report.types';
import { isUUID } from 'class-validator';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';
import { departmentByRef, isPartyOf } from '../departments/department.service';

@ObjectType()
export class ReportConnection extends Connection(Report) {}

@ObjectType({ description: 'One thing customers stumbled over.' })
export class FrictionItem {
  @Field(() => ID, { description: 'Stable across revisions: an item carried forward to a corrected revision, or sent again unchanged, keeps its id (the friction facts’ key).' })
  id!: string;

  @Field(() => FrictionCategory)
  category!: FrictionCategory;

  @Field()
  description!: string;

  @Field(() => Int)
  customersAffected!: number;

  @Field(() => Severity)
  severity!: Severity;
}

@ObjectType({ description: 'A value in a draft.' })
export class DraftValue {
  @Field(() => ID)
  objectiveId!: string;

  @Field(() => Float)
  value!: number;
}

@ObjectType({ description: "The provider's unsubmitted work on a report; never scored." })
export class ReportDraftView {
  @Field(() => [DraftValue])
  values!: DraftValue[];

  @Field(() => String, { nullable: true })
  narrative!: string | null;

  @Field(() => [FrictionItem])
  frictionItems!: FrictionItem[];
}

@ObjectType()
export class ReportPayload {
  @Field(() => Report, { nullable: true })
  report!: Report | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class SubmitReportPayload {
  /** The report of the created revision (no `@Field`: {@link SubmitReportPayloadResolver} loads it when asked). */
  reportId!: string | null;

  @Field(() => ReportRevision, { nullable: true, description: 'The revision this submission created (the same one when an idempotency key is replayed).' })
  revision!: ReportRevision | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@Resolver(() => SubmitReportPayload)
export class SubmitReportPayloadResolver {
  // Loaded only when the client asks: a client that reads the revision alone (as most do) saves a statement.
  @FieldResolver(() => Report, { nullable: true })
  report(@Root() p: SubmitReportPayload, @Ctx() ctx: Context): Promise<Report | null> | null {
    return p.reportId ? ctx.loaders.reportById.load(p.reportId) : null;
  }
}

async function dueOfReport(ctx: Context, r: Report): Promise<{ dueDate: string; dueAt: Date } | null> {
  const [agreement, versions] = await Promise.all([ctx.loaders.agreementById.load(r.agreement.id), ctx.loaders.versionsByAgreement.load(r.agreement.id)]);
  return reports.dueOf(agreement as Agreement, versions, r.month);
}

@Resolver(() => Report)
export class ReportResolver {
  @Authorized()
  @Query(() => Report, { description: 'One report by id.' })
  async report(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Report> {
    const found = isUUID(id) ? await ctx.loaders.reportById.load(id) : null;
    if (!found) throw new NotFoundError('Report', `id ${id}`);
    return found;
  }

  @Authorized()
  @Query(() => ReportConnection, { description: 'Reports, by month.' })
  reports(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => ReportFilter, { nullable: true }) filter?: ReportFilter): Promise<ReportConnection> {
    return reports.listReports(ctx, filter, page);
  }

  @Authorized()
  @Query(() => [OverdueReport], { description: 'Agreement-months whose report was due before `asOf` (default: now) and not submitted by then, oldest due first.' })
  async overdueReports(
    @Ctx() ctx: Context,
    @Arg('asOf', () => DateTimeScalar, { nullable: true }) asOf?: Date | null,
    @Arg('from', () => MonthScalar, { nullable: true, description: 'Ignore months before this one.' }) from?: Month | null,
    @Arg('department', () => ID, { nullable: true, description: 'Only agreements this department provides or receives: its id or its code.' }) department?: string | null,
  ): Promise<OverdueReport[]> {
    const dept = department ? await departmentByRef(ctx, 'department', department) : null;
    const list = await reports.overdueReports(ctx, asOf ?? ctx.request.now, from);
    return dept ? list.filter((r) => isPartyOf(dept.id, r.agreement)) : list;
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() r: Report, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, r.agreement.id, 'Agreement');
  }

  @FieldResolver(() => DateScalar, { nullable: true, description: 'The Nth working day after the month ends, on the calendar of the version in force.' })
  async dueDate(@Root() r: Report, @Ctx() ctx: Context): Promise<string | null> {
    return (await dueOfReport(ctx, r))?.dueDate ?? null;
  }

  @FieldResolver(() => DateTimeScalar, { nullable: true, description: 'The end of the due day, in the calendar’s time zone.' })
  async dueAt(@Root() r: Report, @Ctx() ctx: Context): Promise<Date | null> {
    return (await dueOfReport(ctx, r))?.dueAt ?? null;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: 'Whether the first submission came after the due date; null before it.' })
  late(@Root() r: Report): boolean | null {
    return r.lateByWorkingDays == null ? null : r.lateByWorkingDays > 0;
  }

  @FieldResolver(() => ReportStatus, { description: 'At the request’s instant: a SUBMITTED revision whose acceptance window has passed without a verdict is ACKNOWLEDGED (deemed).' })
  async status(@Root() r: Report, @Ctx() ctx: Context): Promise<ReportStatus> {
    return reports.reportStatusAt(r, await latestOf(r, ctx), ctx.request.now).status;
  }

  @FieldResolver(() => Boolean, { description: 'Acknowledged by the customer’s silence: the latest revision’s acceptance window passed without a verdict.' })
  async deemedAcknowledged(@Root() r: Report, @Ctx() ctx: Context): Promise<boolean> {
    return reports.reportStatusAt(r, await latestOf(r, ctx), ctx.request.now).deemed;
  }

  @FieldResolver(() => DateTimeScalar, { nullable: true, description: 'When the customer’s window to acknowledge or dispute the latest revision ends (null before a submission).' })
  async acceptanceDueAt(@Root() r: Report, @Ctx() ctx: Context): Promise<Date | null> {
    return (await latestOf(r, ctx))?.acceptanceDueAt ?? null;
  }

  @FieldResolver(() => ReportRevision, { nullable: true, description: 'The latest submitted revision: the one that counts.' })
  async latestRevision(@Root() r: Report, @Ctx() ctx: Context): Promise<ReportRevision | null> {
    const all = await ctx.loaders.revisionsByReport.load(r.id);
    return all[all.length - 1] ?? null;
  }

  @FieldResolver(() => [ReportRevision], { description: 'Every submitted revision, oldest first.' })
  revisions(@Root() r: Report, @Ctx() ctx: Context): Promise<ReportRevision[]> {
    return ctx.loaders.revisionsByReport.load(r.id);
  }

  @FieldResolver(() => ReportDraftView, { nullable: true, description: 'The saved, unsubmitted draft, if any.' })
  draft(@Root() r: Report): ReportDraftView | null {
    return r.draft ? { ...r.draft, frictionItems: frictionItemsOf(`${r.id}:draft`, r.draft.frictionItems) } : null;
  }

  @Authorized(...rolesFor('report:draft'))
  @Mutation(() => ReportPayload, { description: "Saves the provider's draft of a month's report (provider head or admin)." })
  async saveReportDraft(@Ctx() ctx: Context, @Arg('input') input: SaveReportDraftInput): Promise<ReportPayload> {
    const r = await reports.saveReportDraft(ctx, input);
    return payload('report', r);
  }

  @Authorized(...rolesFor('report:submit'))
  @Mutation(() => SubmitReportPayload, { description: "Submits a new revision of a month's report (provider head or admin); the latest revision counts." })
  async submitReport(@Ctx() ctx: Context, @Arg('input') input: SubmitReportInput): Promise<SubmitReportPayload> {
    const r = await reports.submitReport(ctx, input);
    return { reportId: r.result?.report.id ?? null, revision: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('report:acknowledge'))
  @Mutation(() => ReportPayload, { description: 'SUBMITTED → ACKNOWLEDGED (customer head or admin).' })
  async acknowledgeReport(@Ctx() ctx: Context, @Arg('input') input: ReportDecisionInput): Promise<ReportPayload> {
    const r = await reports.acknowledgeReport(ctx, input);
    return payload('report', r);
  }

  @Authorized(...rolesFor('dispute:settle'))
  @Mutation(() => ReportPayload, { description: 'An admin settles the dispute of the latest revision: UPHELD (the provider corrects) or REJECTED (the revision stands: ACKNOWLEDGED), with a note.' })
  async settleDispute(@Ctx() ctx: Context, @Arg('input') input: SettleDisputeInput): Promise<ReportPayload> {
    const r = await reports.settleDispute(ctx, input);
    return payload('report', r);
  }

  @Authorized(...rolesFor('report:dispute'))
  @Mutation(() => ReportPayload, { description: 'SUBMITTED → DISPUTED with a reason (customer head or admin); the provider answers with a corrected revision.' })
  async disputeReport(@Ctx() ctx: Context, @Arg('input') input: DisputeReportInput): Promise<ReportPayload> {
    const r = await reports.disputeReport(ctx, input);
    return payload('report', r);
  }
}

/** The latest submitted revision of a report, batched. */
async function latestOf(r: Report, ctx: Context): Promise<ReportRevision | null> {
  const all = await ctx.loaders.revisionsByReport.load(r.id);
  return all[all.length - 1] ?? null;
}

@Resolver(() => ReportRevision)
export class ReportRevisionResolver {
  @FieldResolver(() => [ReportValue], { description: 'One value per MANUAL objective, in the order submitted.' })
  values(@Root() r: ReportRevision, @Ctx() ctx: Context): Promise<ReportValue[]> {
    return ctx.loaders.valuesByRevision.load(r.id);
  }

  @FieldResolver(() => [FrictionItem])
  frictionItems(@Root() r: ReportRevision): FrictionItem[] {
    return frictionItemsOf(r.id, r.frictionItems);
  }
}

@Resolver(() => ReportValue)
export class ReportValueResolver {
  @FieldResolver(() => Objective)
  async objective(@Root() v: ReportValue, @Ctx() ctx: Context): Promise<Objective> {
    return await loadOrThrow(ctx.loaders.objectiveById, v.objective.id, 'Objective');
  }

  @FieldResolver(() => Metric)
  async metric(@Root() v: ReportValue, @Ctx() ctx: Context): Promise<Metric> {
    return await loadOrThrow(ctx.loaders.metricById, v.metric.id, 'Metric');
  }
}

@Resolver(() => Agreement)
export class AgreementReportsResolver {
  @FieldResolver(() => Report, { nullable: true, description: 'The report of a month, if any was saved or submitted.' })
  report(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('month', () => MonthScalar) month: Month): Promise<Report | null> {
    return ctx.loaders.reportByAgreementMonth.load(`${a.id}|${month}`);
  }

  @FieldResolver(() => [Report], { description: 'Every report of the agreement, by month.' })
  reports(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Report[]> {
    return ctx.loaders.reportsByAgreement.load(a.id);
  }

  @FieldResolver(() => [Exclusion], { description: 'Every exclusion request of the agreement, by month.' })
  exclusions(@Root() a: Agreement, @Ctx() ctx: Context): Promise<Exclusion[]> {
    return ctx.loaders.exclusionsByAgreement.load(a.id);
  }
}
