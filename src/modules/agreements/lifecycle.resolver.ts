import { Arg, Authorized, Ctx, Field, FieldResolver, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import type { Context } from '../../common/context';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';
import { UserError } from '../../common/user-error';
import { Agreement } from './agreement.entity';
import { LifecycleDecisionInput } from './agreement.inputs';
import { AgreementLifecycleRequest, LifecycleRequestStatus } from './lifecycle.entity';
import * as lifecycle from './lifecycle.service';

@ObjectType()
export class LifecycleRequestPayload {
  @Field(() => AgreementLifecycleRequest, { nullable: true })
  lifecycleRequest!: AgreementLifecycleRequest | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

/** Issue 16: suspension, resumption and termination requests, their decisions, and where an agreement shows them. */
@Resolver(() => AgreementLifecycleRequest)
export class LifecycleRequestResolver {
  @FieldResolver(() => Agreement)
  async agreement(@Root() r: AgreementLifecycleRequest, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, r.agreement.id, 'Agreement');
  }

  @Authorized()
  @Mutation(() => LifecycleRequestPayload, { description: 'The other party (or an admin) approves a pending suspension, resumption or termination: it takes effect now.' })
  async approveLifecycleRequest(@Ctx() ctx: Context, @Arg('input') input: LifecycleDecisionInput): Promise<LifecycleRequestPayload> {
    return payload('lifecycleRequest', await lifecycle.approveLifecycleRequest(ctx, input));
  }

  @Authorized()
  @Mutation(() => LifecycleRequestPayload, { description: 'The other party (or an admin) rejects a pending request, with a reason; the agreement is unchanged.' })
  async rejectLifecycleRequest(@Ctx() ctx: Context, @Arg('input') input: LifecycleDecisionInput): Promise<LifecycleRequestPayload> {
    return payload('lifecycleRequest', await lifecycle.rejectLifecycleRequest(ctx, input));
  }

  @Authorized()
  @Mutation(() => LifecycleRequestPayload, { description: "The requester's side (or an admin) withdraws its pending request." })
  async withdrawLifecycleRequest(@Ctx() ctx: Context, @Arg('input') input: LifecycleDecisionInput): Promise<LifecycleRequestPayload> {
    return payload('lifecycleRequest', await lifecycle.withdrawLifecycleRequest(ctx, input));
  }
}

@Resolver(() => Agreement)
export class AgreementLifecycleResolver {
  @FieldResolver(() => AgreementLifecycleRequest, { nullable: true, description: 'The suspension, resumption or termination a party asked for and the other has yet to decide (at most one).' })
  async pendingLifecycleRequest(@Root() a: Agreement, @Ctx() ctx: Context): Promise<AgreementLifecycleRequest | null> {
    return (await ctx.loaders.lifecycleRequestsByAgreement.load(a.id)).find((r) => r.status === LifecycleRequestStatus.PENDING) ?? null;
  }

  @FieldResolver(() => [AgreementLifecycleRequest], {
    description: "Every suspension, resumption and termination asked for or made (an admin's own: APPROVED), oldest first, with reasons and decisions.",
  })
  lifecycleRequests(@Root() a: Agreement, @Ctx() ctx: Context): Promise<AgreementLifecycleRequest[]> {
    return ctx.loaders.lifecycleRequestsByAgreement.load(a.id);
  }
}
