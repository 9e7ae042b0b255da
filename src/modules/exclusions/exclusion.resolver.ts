import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import type { Context } from '../../common/context';
import { rolesFor } from '../../common/policy';
import { UserError } from '../../common/user-error';
import { Agreement, Objective } from '../agreements/agreement.entity';
import { Metric } from '../catalog/metric.entity';
import { Exclusion } from '../reports/report.entity';
import { ExclusionDecisionInput, ExclusionFilter, RequestExclusionInput } from '../reports/report.inputs';
import * as exclusions from './exclusion.service';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';

@ObjectType()
export class ExclusionConnection extends Connection(Exclusion) {}

@ObjectType()
export class ExclusionPayload {
  @Field(() => Exclusion, { nullable: true })
  exclusion!: Exclusion | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
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
    return await loadOrThrow(ctx.loaders.agreementById, e.agreement.id, 'Agreement');
  }

  @FieldResolver(() => Objective)
  async objective(@Root() e: Exclusion, @Ctx() ctx: Context): Promise<Objective> {
    return await loadOrThrow(ctx.loaders.objectiveById, e.objective.id, 'Objective');
  }

  @FieldResolver(() => Metric)
  async metric(@Root() e: Exclusion, @Ctx() ctx: Context): Promise<Metric> {
    return await loadOrThrow(ctx.loaders.metricById, e.metric.id, 'Metric');
  }

  @Authorized(...rolesFor('exclusion:request'))
  @Mutation(() => ExclusionPayload, { description: 'Asks for a BREACHED or NO_DATA objective-month to be excused (provider head or admin).' })
  async requestExclusion(@Ctx() ctx: Context, @Arg('input') input: RequestExclusionInput): Promise<ExclusionPayload> {
    const r = await exclusions.requestExclusion(ctx, input);
    return payload('exclusion', r);
  }

  @Authorized(...rolesFor('exclusion:decide'))
  @Mutation(() => ExclusionPayload, { description: 'REQUESTED → APPROVED (customer head or admin): the objective-month is EXCUSED.' })
  async approveExclusion(@Ctx() ctx: Context, @Arg('input') input: ExclusionDecisionInput): Promise<ExclusionPayload> {
    const r = await exclusions.decideExclusion(ctx, input, true);
    return payload('exclusion', r);
  }

  @Authorized(...rolesFor('exclusion:decide'))
  @Mutation(() => ExclusionPayload, { description: 'REQUESTED → REJECTED with a note (customer head or admin).' })
  async rejectExclusion(@Ctx() ctx: Context, @Arg('input') input: ExclusionDecisionInput): Promise<ExclusionPayload> {
    const r = await exclusions.decideExclusion(ctx, input, false);
    return payload('exclusion', r);
  }
}
