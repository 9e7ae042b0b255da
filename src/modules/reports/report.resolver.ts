import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Float, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import { NotFoundError } from '../../common/errors';
import type { Month } from '../../common/month';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import type { Context } from '../../context';
import { Agreement, Objective } from '../agreements/agreement.entity';
import { rolesFor } from '../auth/policy';
import { Metric } from '../catalog/metric.entity';
import * as exclusions from './exclusion.service';
import { Exclusion, FrictionCategory, Report, ReportRevision, ReportStatus, ReportValue, Severity } from './report.entity';
import {
  DisputeReportInput,
  ExclusionDecisionInput,
  ExclusionFilter,
  ReportDecisionInput,
  ReportFilter,
  RequestExclusionInput,
  SaveReportDraftInput,
  SettleDisputeInput,
  SubmitReportInput,
} from './report.inputs';
import * as reports from './report.service';
import { isUUID } from 'class-validator';

@ObjectType()
export class ReportConnection extends Connection(Report) {}

@ObjectType()
export class ExclusionConnection extends Connection(Exclusion) {}

@ObjectType({ description: 'One thing customers stumbled over.' })
export class FrictionItem {
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
  @Field(() => Report, { nullable: true })
  report!: Report | null;

  @Field(() => ReportRevision, { nullable: true, description: 'The revision this submission created (the same one when an idempotency key is replayed).' })
  revision!: ReportRevision | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class ExclusionPayload {
  @Field(() => Exclusion, { nullable: true })
  exclusion!: Exclusion | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType({ description: 'An agreement-month whose report is due and missing.' })
export class OverdueReport {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => MonthScalar)
  month!: Month;

  @Field({ description: '"YYYY-MM-DD" on the agreement’s business calendar.' })
  dueDate!: string;

  @Field(() => DateTimeScalar, { description: 'The end of the due day, in the calendar’s time zone.' })
  dueAt!: Date;

  @Field(() => Int, { description: 'Working days since the due date, as of the time asked.' })
  workingDaysOverdue!: number;
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
  overdueReports(
    @Ctx() ctx: Context,
    @Arg('asOf', () => DateTimeScalar, { nullable: true }) asOf?: Date | null,
    @Arg('from', () => MonthScalar, { nullable: true, description: 'Ignore months before this one.' }) from?: Month | null,
  ): Promise<OverdueReport[]> {
    return reports.overdueReports(ctx, asOf ?? ctx.request.now, from);
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() r: Report, @Ctx() ctx: Context): Promise<Agreement> {
    return (await ctx.loaders.agreementById.load(r.agreement.id)) as Agreement;
  }

  @FieldResolver(() => String, { nullable: true, description: '"YYYY-MM-DD": the Nth working day after the month ends, on the calendar of the version in force.' })
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
    return r.draft ?? null;
  }

  @Authorized(...rolesFor('report:draft'))
  @Mutation(() => ReportPayload, { description: "Saves the provider's draft of a month's report (provider head or admin)." })
  async saveReportDraft(@Ctx() ctx: Context, @Arg('input') input: SaveReportDraftInput): Promise<ReportPayload> {
    const r = await reports.saveReportDraft(ctx, input);
    return { report: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('report:submit'))
  @Mutation(() => SubmitReportPayload, { description: "Submits a new revision of a month's report (provider head or admin); the latest revision counts." })
  async submitReport(@Ctx() ctx: Context, @Arg('input') input: SubmitReportInput): Promise<SubmitReportPayload> {
    const r = await reports.submitReport(ctx, input);
    const report = r.result ? await ctx.loaders.reportById.load(r.result.report.id) : null;
    return { report, revision: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('report:acknowledge'))
  @Mutation(() => ReportPayload, { description: 'SUBMITTED → ACKNOWLEDGED (customer head or admin).' })
  async acknowledgeReport(@Ctx() ctx: Context, @Arg('input') input: ReportDecisionInput): Promise<ReportPayload> {
    const r = await reports.acknowledgeReport(ctx, input);
    return { report: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('dispute:settle'))
  @Mutation(() => ReportPayload, { description: 'An admin settles the dispute of the latest revision: UPHELD (the provider corrects) or REJECTED (the revision stands: ACKNOWLEDGED), with a note.' })
  async settleDispute(@Ctx() ctx: Context, @Arg('input') input: SettleDisputeInput): Promise<ReportPayload> {
    const r = await reports.settleDispute(ctx, input);
    return { report: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('report:dispute'))
  @Mutation(() => ReportPayload, { description: 'SUBMITTED → DISPUTED with a reason (customer head or admin); the provider answers with a corrected revision.' })
  async disputeReport(@Ctx() ctx: Context, @Arg('input') input: DisputeReportInput): Promise<ReportPayload> {
    const r = await reports.disputeReport(ctx, input);
    return { report: r.result, userErrors: r.userErrors };
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
    return r.frictionItems;
  }
}

@Resolver(() => ReportValue)
export class ReportValueResolver {
  @FieldResolver(() => Objective)
  async objective(@Root() v: ReportValue, @Ctx() ctx: Context): Promise<Objective> {
    return (await ctx.loaders.objectiveById.load(v.objective.id)) as Objective;
  }

  @FieldResolver(() => Metric)
  async metric(@Root() v: ReportValue, @Ctx() ctx: Context): Promise<Metric> {
    return (await ctx.loaders.metricById.load(v.metric.id)) as Metric;
  }
}

@Resolver(() => Exclusion)
export class ExclusionResolver {
  @Authorized()
  @Query(() => ExclusionConnection, { description: 'Exclusion requests, by month.' })
  exclusions(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => ExclusionFilter, { nullable: true }) filter?: ExclusionFilter): Promise<ExclusionConnection> {
    return exclusions.listExclusions(ctx, filter, page);
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() e: Exclusion, @Ctx() ctx: Context): Promise<Agreement> {
    return (await ctx.loaders.agreementById.load(e.agreement.id)) as Agreement;
  }

  @FieldResolver(() => Objective)
  async objective(@Root() e: Exclusion, @Ctx() ctx: Context): Promise<Objective> {
    return (await ctx.loaders.objectiveById.load(e.objective.id)) as Objective;
  }

  @FieldResolver(() => Metric)
  async metric(@Root() e: Exclusion, @Ctx() ctx: Context): Promise<Metric> {
    return (await ctx.loaders.metricById.load(e.metric.id)) as Metric;
  }

  @Authorized(...rolesFor('exclusion:request'))
  @Mutation(() => ExclusionPayload, { description: 'Asks for a BREACHED or NO_DATA objective-month to be excused (provider head or admin).' })
  async requestExclusion(@Ctx() ctx: Context, @Arg('input') input: RequestExclusionInput): Promise<ExclusionPayload> {
    const r = await exclusions.requestExclusion(ctx, input);
    return { exclusion: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('exclusion:decide'))
  @Mutation(() => ExclusionPayload, { description: 'REQUESTED → APPROVED (customer head or admin): the objective-month is EXCUSED.' })
  async approveExclusion(@Ctx() ctx: Context, @Arg('input') input: ExclusionDecisionInput): Promise<ExclusionPayload> {
    const r = await exclusions.decideExclusion(ctx, input, true);
    return { exclusion: r.result, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('exclusion:decide'))
  @Mutation(() => ExclusionPayload, { description: 'REQUESTED → REJECTED with a note (customer head or admin).' })
  async rejectExclusion(@Ctx() ctx: Context, @Arg('input') input: ExclusionDecisionInput): Promise<ExclusionPayload> {
    const r = await exclusions.decideExclusion(ctx, input, false);
    return { exclusion: r.result, userErrors: r.userErrors };
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
