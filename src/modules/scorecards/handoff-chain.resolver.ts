import { Arg, Authorized, Ctx, Field, FieldResolver, Float, ID, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../common/context';
import { departmentByRef } from '../departments/department.service';
import type { Month } from '../../common/month';
import { windowMonths } from '../../common/month-window';
import { MonthScalar } from '../../common/scalars';
import { Agreement } from '../agreements/agreement.entity';
import { Department } from '../departments/department.entity';
import { handoffChain, type ChainStageData } from './handoff-chain';
import { ReasonCount, rejectionReasonsByMonth, totalReasons } from '../handoffs/handoff-months';
import { qualifiedOf } from '../../scoring/automated';

@ObjectType({ description: 'One stage of a handoff chain: an agreement along which work flowed, over the window.' })
export class ChainStage {
  data!: ChainStageData;

  /** The chain's window, for the reasons below. */
  start!: Month;
  end!: Month;

  @Field(() => Int, { description: '0 for the first stage.' })
  position!: number;

  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => [String], { description: 'Stage names seen in its events.' })
  stages!: string[];

  @Field(() => Int)
  volume!: number;

  @Field(() => Int)
  accepted!: number;

  @Field(() => Int)
  rejected!: number;

  @Field(() => Int, { description: 'Items not rejected (accepted or undecided): what a volume commitment counts.' })
  qualified!: number;

  @Field(() => Int)
  converted!: number;

  @Field(() => Float, { nullable: true, description: 'accepted / (accepted + rejected), a fraction from 0 to 1 (0.75 is 75 %); null when nothing was decided.' })
  acceptanceRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Working hours to a first response: median of the responded events.' })
  responseMedianHours!: number | null;

  @Field(() => Float, { nullable: true })
  responseP90Hours!: number | null;

  @Field(() => Float, { nullable: true, description: 'converted / volume, a fraction from 0 to 1; null without volume.' })
  conversionRate!: number | null;

  @Field(() => Float, { nullable: true })
  meanQuality!: number | null;

  @Field(() => Float, { nullable: true, description: 'Pooled score of its HANDOFF_* objectives over the window; null when it has none.' })
  score!: number | null;
}

@ObjectType({ description: 'The path of agreements along which handoffs flowed between two departments (DESIGN §6).' })
export class HandoffChain {
  @Field(() => MonthScalar)
  start!: Month;

  @Field(() => MonthScalar)
  end!: Month;

  @Field(() => [ChainStage], { description: 'In flow order; empty when no handoffs flowed from `from` to `to` in the window.' })
  stages!: ChainStage[];

  @Field(() => Float, { nullable: true, description: 'The share of what entered the first stage that converted at every stage (the product of the conversion rates), a fraction from 0 to 1.' })
  endToEndConversion!: number | null;

  @Field(() => ChainStage, { nullable: true, description: 'The stage with the worst score against its objectives (the lowest conversion when none is scored).' })
  bottleneck!: ChainStage | null;
}

function stageView(d: ChainStageData): ChainStage {
  return Object.assign(new ChainStage(), {
    data: d,
    position: d.position,
    agreement: d.agreement,
    stages: d.stages,
    volume: d.stats.volume,
    accepted: d.stats.accepted,
    rejected: d.stats.rejected,
    qualified: qualifiedOf(d.stats),
    converted: d.stats.converted,
    acceptanceRate: d.acceptanceRate,
    responseMedianHours: d.stats.responseMedianHours,
    responseP90Hours: d.stats.responseP90Hours,
    conversionRate: d.conversionRate,
    meanQuality: d.stats.meanQuality,
    score: d.score,
  });
}

/** The handoff chain query: a read model over the handoff facts and the scores of each stage. */
@Resolver()
export class HandoffChainResolver {
  @Authorized()
  @Query(() => HandoffChain, { description: 'The chain of agreements along which handoffs flowed from one department to another in a window (Marketing → Sales → Customer Service), stage by stage.' })
  async handoffChain(
    @Ctx() ctx: Context,
    @Arg('from', () => ID, { description: 'The first provider department: its id or its code (`MKT`).' }) from: string,
    @Arg('to', () => ID, { description: 'The last customer department: its id or its code (`CS`).' }) to: string,
    @Arg('start', () => MonthScalar) start: Month,
    @Arg('end', () => MonthScalar, { nullable: true, description: 'Default: `start`.' }) end?: Month | null,
  ): Promise<HandoffChain> {
    const last = end ?? start;
    windowMonths(start, last);
    const [first, lastDept] = await Promise.all([departmentByRef(ctx, 'from', from), departmentByRef(ctx, 'to', to)]);
    const chain = await handoffChain(ctx, first.id, lastDept.id, start, last);
    const stages = chain.stages.map(stageView);
    for (const stage of stages) Object.assign(stage, { start, end: last });
    return { start, end: last, stages, endToEndConversion: chain.endToEndConversion, bottleneck: chain.bottleneck ? stages[chain.bottleneck.position] : null };
  }
}

@Resolver(() => ChainStage)
export class ChainStageResolver {
  @FieldResolver(() => Department, { nullable: true })
  provider(@Root() s: ChainStage, @Ctx() ctx: Context): Promise<Department | null> | null {
    return s.agreement.provider ? ctx.loaders.departmentById.load(s.agreement.provider.id) : null;
  }

  @FieldResolver(() => [ReasonCount], { description: 'Its rejected items over the window, by reason, most frequent first.' })
  async rejectionReasons(@Root() s: ChainStage, @Ctx() ctx: Context): Promise<ReasonCount[]> {
    return totalReasons(await rejectionReasonsByMonth(ctx.em, s.agreement.id, s.start, s.end));
  }

  @FieldResolver(() => Department, { nullable: true })
  customer(@Root() s: ChainStage, @Ctx() ctx: Context): Promise<Department | null> | null {
    return s.agreement.customer ? ctx.loaders.departmentById.load(s.agreement.customer.id) : null;
  }
}
