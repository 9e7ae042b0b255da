import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { isUUID } from 'class-validator';
import { NotFoundError } from '../../common/errors';
import { Connection, PageArgs } from '../../common/connection';
import { DateTimeScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Agreement, AgreementVersion } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.rules';
import { rolesFor } from '../../common/policy';
import { Escalation, EscalationBatch } from './escalation.entity';
import { recordEscalations } from './escalation-ingest';
import { EscalationFilter, EscalationTransitionInput, OpenEscalationInput, RecordEscalationsInput } from './escalation.inputs';
import * as escalations from './escalation.service';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';

@ObjectType()
export class EscalationConnection extends Connection(Escalation) {}

@ObjectType()
export class EscalationPayload {
  @Field(() => Escalation, { nullable: true })
  escalation!: Escalation | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

async function calendarOf(ctx: Context, e: Escalation) {
  return (versionAt(await ctx.loaders.versionsByAgreement.load(e.agreement.id), e.month) as AgreementVersion).calendar;
}

@ObjectType()
export class RecordEscalationsPayload {
  @Field(() => EscalationBatch, { nullable: true })
  batch!: EscalationBatch | null;

  @Field(() => [UserError], { description: 'Every problem of the batch, by index (`escalations[2].resolvedAt`); nothing was written when there is any.' })
  userErrors!: UserError[];
}

@Resolver(() => Escalation)
export class EscalationResolver {
  @Authorized(...rolesFor('escalation:ingest'))
  @Mutation(() => RecordEscalationsPayload, {
    description:
      'Records up to 5,000 escalations from a ticketing system, all or nothing; a re-sent externalId (per source) updates its escalation (times, severity, status). Each counts as one opened with openEscalation would.',
  })
  async recordEscalations(@Ctx() ctx: Context, @Arg('input') input: RecordEscalationsInput): Promise<RecordEscalationsPayload> {
    return payload('batch', await recordEscalations(ctx, input));
  }

  @Authorized()
  @Query(() => EscalationConnection, { description: 'Escalations, newest first.' })
  escalations(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => EscalationFilter, { nullable: true }) filter?: EscalationFilter): Promise<EscalationConnection> {
    return escalations.listEscalations(ctx, filter, page);
  }

  @Authorized()
  @Query(() => Escalation, { description: 'One escalation by id.' })
  async escalation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Escalation> {
    const found = isUUID(id) ? await ctx.em.findOne(Escalation, { id: id.toLowerCase() }) : null;
    if (!found) throw new NotFoundError('Escalation', `id ${id}`);
    return found;
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() e: Escalation, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, e.agreement.id, 'Agreement');
  }

  @FieldResolver(() => DateTimeScalar, { description: 'When the response is due: the target counted from opening on the severity’s clock.' })
  async responseDueAt(@Root() e: Escalation, @Ctx() ctx: Context): Promise<Date> {
    return escalations.deadline(e, await calendarOf(ctx, e), e.responseTargetHours);
  }

  @FieldResolver(() => DateTimeScalar, { description: 'When the resolution is due.' })
  async resolutionDueAt(@Root() e: Escalation, @Ctx() ctx: Context): Promise<Date> {
    return escalations.deadline(e, await calendarOf(ctx, e), e.resolutionTargetHours);
  }

  @FieldResolver(() => Boolean, { nullable: true, description: 'Whether the response met its target; null while unanswered.' })
  responseMet(@Root() e: Escalation): boolean | null {
    return e.responseHours == null ? null : e.responseHours <= e.responseTargetHours;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: 'Whether the resolution met its target; null while unresolved.' })
  resolutionMet(@Root() e: Escalation): boolean | null {
    return e.resolutionHours == null ? null : e.resolutionHours <= e.resolutionTargetHours;
  }

  @Authorized(...rolesFor('escalation:open'))
  @Mutation(() => EscalationPayload, { description: "Raises an escalation against an agreement (either party's head or integration, or an admin)." })
  async openEscalation(@Ctx() ctx: Context, @Arg('input') input: OpenEscalationInput): Promise<EscalationPayload> {
    const r = await escalations.openEscalation(ctx, input);
    return payload('escalation', r);
  }

  @Authorized(...rolesFor('escalation:acknowledge'))
  @Mutation(() => EscalationPayload, { description: 'OPEN → ACKNOWLEDGED (the provider side): the response clock stops.' })
  async acknowledgeEscalation(@Ctx() ctx: Context, @Arg('input') input: EscalationTransitionInput): Promise<EscalationPayload> {
    const r = await escalations.acknowledgeEscalation(ctx, input);
    return payload('escalation', r);
  }

  @Authorized(...rolesFor('escalation:resolve'))
  @Mutation(() => EscalationPayload, { description: 'OPEN or ACKNOWLEDGED → RESOLVED (the provider side), saying how.' })
  async resolveEscalation(@Ctx() ctx: Context, @Arg('input') input: EscalationTransitionInput): Promise<EscalationPayload> {
    const r = await escalations.resolveEscalation(ctx, input);
    return payload('escalation', r);
  }
}
