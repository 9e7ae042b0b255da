import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs, paginate } from '../../common/connection';
import type { Month } from '../../common/month';
import { MonthScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Agreement } from '../agreements/agreement.entity';
import { idOfRef } from '../../common/lookup';
import { rolesFor } from '../../common/policy';
import { HandoffBatch, HandoffEvent } from './handoff.entity';
import { handoffMonths, HandoffMonthView } from './handoff-months';
import { windowMonths } from '../../common/month-window';
import { RecordHandoffEventsInput } from './handoff.inputs';
import { recordHandoffEvents } from './handoff.service';
import { takeOutcome } from './handoff.fast-input';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';

@ObjectType()
export class HandoffEventConnection extends Connection(HandoffEvent) {}

@ObjectType()
export class RecordHandoffEventsPayload {
  @Field(() => HandoffBatch, { nullable: true })
  batch!: HandoffBatch | null;

  @Field(() => [UserError], { description: 'Every problem of the batch, by index (`events[12].acceptedAt`); nothing was written when there is any.' })
  userErrors!: UserError[];
}

@Resolver(() => HandoffEvent)
export class HandoffResolver {
  @Authorized(...rolesFor('handoff:ingest'))
  @Mutation(() => RecordHandoffEventsPayload, { description: 'Records up to 5,000 handoff events from automation, all or nothing; a re-sent externalId updates its event.' })
  async recordHandoffEvents(@Ctx() ctx: Context, @Arg('input') input: RecordHandoffEventsInput): Promise<RecordHandoffEventsPayload> {
    // Already run by src/http/ingest-execution.ts, which left its error (or a payload it did not
    // write) to be reported as graphql-js reports it: handed over, not ingested a second time.
    const outcome = takeOutcome(ctx);
    if (outcome) {
      if ('error' in outcome) throw outcome.error;
      return outcome.payload as RecordHandoffEventsPayload;
    }
    const r = await recordHandoffEvents(ctx, input);
    return payload('batch', r);
  }

  @Authorized()
  @Query(() => HandoffEventConnection, { description: 'Handoff events of an agreement (or all), by hand-off time.' })
  async handoffEvents(
    @Ctx() ctx: Context,
    @Args() page: PageArgs,
    @Arg('agreementId', () => ID, { nullable: true, description: 'The agreement: its id or its key.' }) agreementId?: string,
    @Arg('month', () => MonthScalar, { nullable: true }) month?: Month,
  ): Promise<HandoffEventConnection> {
    const agreement = await idOfRef(ctx.em, Agreement, 'Agreement', 'agreementId', agreementId, 'key');
    return paginate(
      ctx.em,
      HandoffEvent,
      { $and: [agreement ? { agreement } : {}, month ? { month } : {}] },
      [
        ['handedOffAt', 'asc'],
        ['id', 'asc'],
      ],
      page,
    );
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() e: HandoffEvent, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, e.agreement.id, 'Agreement');
  }
}

/** An agreement's handoffs month by month. */
@Resolver(() => Agreement)
export class AgreementHandoffsResolver {
  @FieldResolver(() => [HandoffMonthView], {
    description: 'Its handoffs month by month in a window of at most 24 months (months without any are left out): volume, qualified, decisions, rejection reasons.',
  })
  handoffMonths(
    @Root() a: Agreement,
    @Ctx() ctx: Context,
    @Arg('from', () => MonthScalar) from: Month,
    @Arg('to', () => MonthScalar, { nullable: true, description: 'Default: `from`.' }) to?: Month | null,
  ): Promise<HandoffMonthView[]> {
    windowMonths(from, to ?? from);
    return handoffMonths(ctx.em, a.id, from, to ?? from);
  }
}
