import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../common/context';
import type { Month } from '../../common/month';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement, Tier } from '../agreements/agreement.entity';
import { reviewsDue } from '../agreements/review.service';
import { Department } from '../departments/department.entity';
import { departmentByRef, isPartyOf } from '../departments/department.service';
import { AgreementCompliance, AgreementScorecard, BaselineView, ObjectiveScore, PartyRole, ReviewDue, RiskItem, Scorecard } from './scorecard.types';
import * as views from './scorecard.views';

@Resolver(() => Agreement)
export class AgreementScorecardResolver {
  @FieldResolver(() => AgreementScorecard, { description: 'The agreement in one month, scored by DESIGN §4.' })
  scorecard(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('month', () => MonthScalar) month: Month): Promise<AgreementScorecard> {
    return views.agreementScorecard(ctx, a, month);
  }

  @FieldResolver(() => AgreementCompliance, {
    description: 'The agreement (or, for a container, its measured descendants) over a window: pooled compliance, score, error budget, trend and the monthly series.',
  })
  compliance(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('from', () => MonthScalar) from: Month, @Arg('to', () => MonthScalar) to: Month): Promise<AgreementCompliance> {
    return views.agreementCompliance(ctx, a, from, to);
  }
}

@Resolver(() => ObjectiveScore)
export class ObjectiveScoreResolver {
  @FieldResolver(() => Agreement, { nullable: true, description: 'The ancestor that defines it; null for the agreement’s own objectives.' })
  inheritedFrom(@Root() o: ObjectiveScore, @Ctx() ctx: Context): Promise<Agreement | null> | null {
    return o.inheritedFromId ? ctx.loaders.agreementById.load(o.inheritedFromId) : null;
  }

  @FieldResolver(() => BaselineView, { nullable: true, description: 'Suggested target from the last 6 values up to this month (DESIGN §4.10); null with fewer than 3.' })
  baseline(@Root() o: ObjectiveScore): BaselineView | null {
    return views.baselineOf(o);
  }
}

@Resolver(() => Department)
export class DepartmentScorecardResolver {
  @FieldResolver(() => Scorecard, { description: 'The measured agreements the department provides (PROVIDER) or receives (CUSTOMER), pooled.' })
  scorecard(
    @Root() d: Department,
    @Ctx() ctx: Context,
    @Arg('from', () => MonthScalar) from: Month,
    @Arg('to', () => MonthScalar) to: Month,
    @Arg('as', () => PartyRole) as: PartyRole,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Scorecard> {
    return views.departmentScorecard(ctx, d, from, to, as, views.agreementDetail(info));
  }
}

@Resolver()
export class ScorecardQueryResolver {
  @Authorized()
  @Query(() => Scorecard, { description: 'Every measured agreement-month of the organisation over a window, with breakdowns by department, tier and agreement.' })
  organisationScorecard(@Ctx() ctx: Context, @Arg('from', () => MonthScalar) from: Month, @Arg('to', () => MonthScalar) to: Month, @Info() info: GraphQLResolveInfo): Promise<Scorecard> {
    return views.organisationScorecard(ctx, from, to, views.agreementDetail(info));
  }

  @Authorized()
  @Query(() => Scorecard, { description: 'The measured agreement-months of a tier: CUSTOMER or SERVICE agreements; CORPORATE pools everything the charters bind (the organisation).' })
  tierScorecard(
    @Ctx() ctx: Context,
    @Arg('tier', () => Tier) tier: Tier,
    @Arg('from', () => MonthScalar) from: Month,
    @Arg('to', () => MonthScalar) to: Month,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Scorecard> {
    return views.tierScorecard(ctx, tier, from, to, views.agreementDetail(info));
  }

  @Authorized()
  @Query(() => [RiskItem], { description: 'The objective-months of a month that are BREACHED, NO_DATA or AT_RISK, worst first (then lowest attainment, then agreement key).' })
  async atRisk(
    @Ctx() ctx: Context,
    @Arg('month', () => MonthScalar) month: Month,
    @Arg('department', () => ID, { nullable: true, description: 'Only agreements this department provides or receives: its id or its code.' }) department?: string | null,
  ): Promise<RiskItem[]> {
    const dept = department ? await departmentByRef(ctx, 'department', department) : null;
    const items = await views.atRisk(ctx, month);
    return dept ? items.filter((i) => isPartyOf(dept.id, i.agreement)) : items;
  }

  @Authorized()
  @Query(() => [ReviewDue], { description: 'Live agreements whose periodic review is due on or before `asOf` (default: now), oldest first.' })
  reviewsDue(@Ctx() ctx: Context, @Arg('asOf', () => DateTimeScalar, { nullable: true }) asOf?: Date | null): Promise<ReviewDue[]> {
    return reviewsDue(ctx, asOf);
  }
}
