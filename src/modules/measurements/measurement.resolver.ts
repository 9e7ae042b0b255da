import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs, paginate } from '../../common/connection';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { rolesFor } from '../../common/policy';
import { payload } from '../../common/mutation';
import { loadOrThrow } from '../../common/loaders';
import { Metric } from '../catalog/metric.entity';
import { Agreement } from '../agreements/agreement.entity';
import { agreementRef } from '../agreements/agreement.rules';
import { NotFoundError } from '../../common/errors';
import { Measurement, MeasurementBatch } from './measurement.entity';
import { RecordMeasurementsInput } from './measurement.inputs';
import { recordMeasurements } from './measurement.service';

@ObjectType()
export class MeasurementConnection extends Connection(Measurement) {}

@ObjectType()
export class RecordMeasurementsPayload {
  @Field(() => MeasurementBatch, { nullable: true })
  batch!: MeasurementBatch | null;

  @Field(() => [UserError], { description: 'Every problem of the batch, by index (`measurements[3].interval`); nothing was written when there is any.' })
  userErrors!: UserError[];
}

@Resolver(() => Measurement)
export class MeasurementResolver {
  @Authorized(...rolesFor('measurement:ingest'))
  @Mutation(() => RecordMeasurementsPayload, {
    description:
      'Records up to 5,000 measurements of EXTERNAL metrics from monitoring or ticketing systems, all or nothing; a re-sent externalId (per source) updates its measurement. The agreement-months they fall in are re-scored; a closed month keeps its results and shows late data.',
  })
  async recordMeasurements(@Ctx() ctx: Context, @Arg('input') input: RecordMeasurementsInput): Promise<RecordMeasurementsPayload> {
    return payload('batch', await recordMeasurements(ctx, input));
  }

  @Authorized()
  @Query(() => MeasurementConnection, { description: 'The measurements of an agreement (by key or id), by start of interval; optionally of one metric (by code).' })
  async measurements(
    @Ctx() ctx: Context,
    @Args() page: PageArgs,
    @Arg('agreement') agreement: string,
    @Arg('metric', () => String, { nullable: true }) metric?: string | null,
  ): Promise<MeasurementConnection> {
    const ref = agreementRef(agreement);
    const found = await ctx.em.findOne(Agreement, ref.where);
    if (!found) throw new NotFoundError('Agreement', `${ref.by} ${agreement} (agreement)`);
    const where: Record<string, unknown> = { agreement: found.id };
    if (metric) where.metric = { code: metric.trim().toUpperCase() };
    return paginate(
      ctx.em,
      Measurement,
      where,
      [
        ['startsAt', 'asc'],
        ['id', 'asc'],
      ],
      page,
    );
  }

  @FieldResolver(() => Metric)
  metric(@Root() m: Measurement, @Ctx() ctx: Context): Promise<Metric> {
    return loadOrThrow(ctx.loaders.metricById, m.metric.id, 'Metric');
  }
}
