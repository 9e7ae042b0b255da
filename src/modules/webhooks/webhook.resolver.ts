import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection } from '../../common/connection';
import type { Context } from '../../common/context';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';
import { rolesFor } from '../../common/policy';
import { UserError } from '../../common/user-error';
import { Department } from '../departments/department.entity';
import { WebhookDelivery, WebhookSubscription } from './webhook.entity';
import { CreateWebhookSubscriptionInput, DisableWebhookSubscriptionInput, RedeliverWebhookInput, WebhookDeliveryArgs, WebhookSubscriptionVersionInput } from './webhook.inputs';
import * as webhooks from './webhook.service';

@ObjectType()
export class WebhookDeliveryConnection extends Connection(WebhookDelivery) {}

@ObjectType({ description: 'A subscription and its signing secret: the only answers that show a secret.' })
export class WebhookSecretPayload {
  @Field(() => WebhookSubscription, { nullable: true })
  subscription!: WebhookSubscription | null;

  @Field(() => String, { nullable: true, description: '`whsec_…`: shown here once; store it now, it cannot be read later.' })
  secret!: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class WebhookSubscriptionPayload {
  @Field(() => WebhookSubscription, { nullable: true })
  subscription!: WebhookSubscription | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class DeleteWebhookSubscriptionPayload {
  @Field(() => ID, { nullable: true })
  deletedId!: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class WebhookDeliveryPayload {
  @Field(() => WebhookDelivery, { nullable: true })
  delivery!: WebhookDelivery | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

function secretPayload(r: { result: webhooks.WithSecret | null; userErrors: UserError[] }): WebhookSecretPayload {
  return { subscription: r.result?.subscription ?? null, secret: r.result?.secret ?? null, userErrors: r.userErrors };
}

@Resolver(() => WebhookSubscription)
export class WebhookResolver {
  @Authorized(...rolesFor('webhook:manage'))
  @Query(() => [WebhookSubscription], { description: 'Webhook subscriptions: a head its departments’, an admin all; optionally one department’s (id or code).' })
  webhookSubscriptions(@Ctx() ctx: Context, @Arg('department', () => String, { nullable: true }) department?: string | null): Promise<WebhookSubscription[]> {
    return webhooks.listSubscriptions(ctx, department);
  }

  @FieldResolver(() => Department)
  async department(@Root() sub: WebhookSubscription, @Ctx() ctx: Context): Promise<Department> {
    return await loadOrThrow(ctx.loaders.departmentById, sub.department.id, 'Department');
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'The delivery log, newest event first.' })
  deliveries(@Root() sub: WebhookSubscription, @Ctx() ctx: Context, @Args() args: WebhookDeliveryArgs): Promise<WebhookDeliveryConnection> {
    return webhooks.listDeliveries(ctx, sub, args);
  }

  @Authorized(...rolesFor('webhook:manage'))
  @Mutation(() => WebhookSecretPayload, { description: 'A signed webhook endpoint for a department’s events (heads: their own; admins: any). Returns its secret, once.' })
  async createWebhookSubscription(@Ctx() ctx: Context, @Arg('input') input: CreateWebhookSubscriptionInput): Promise<WebhookSecretPayload> {
    return secretPayload(await webhooks.createSubscription(ctx, input));
  }

  @Authorized(...rolesFor('webhook:manage'))
  @Mutation(() => WebhookSecretPayload, { description: 'A new signing secret, returned once; the old one keeps signing beside it for 24 hours.' })
  async rotateWebhookSecret(@Ctx() ctx: Context, @Arg('input') input: WebhookSubscriptionVersionInput): Promise<WebhookSecretPayload> {
    return secretPayload(await webhooks.rotateSecret(ctx, input));
  }

  @Authorized(...rolesFor('webhook:manage'))
  @Mutation(() => WebhookSubscriptionPayload, { description: 'ENABLED → DISABLED: hears nothing more; pending deliveries are cancelled.' })
  async disableWebhookSubscription(@Ctx() ctx: Context, @Arg('input') input: DisableWebhookSubscriptionInput): Promise<WebhookSubscriptionPayload> {
    return payload('subscription', await webhooks.disableSubscription(ctx, input));
  }

  @Authorized(...rolesFor('webhook:manage'))
  @Mutation(() => WebhookSubscriptionPayload, { description: 'DISABLED → ENABLED: hears the events committed from now on.' })
  async enableWebhookSubscription(@Ctx() ctx: Context, @Arg('input') input: WebhookSubscriptionVersionInput): Promise<WebhookSubscriptionPayload> {
    return payload('subscription', await webhooks.enableSubscription(ctx, input));
  }

  @Authorized(...rolesFor('webhook:manage'))
  @Mutation(() => DeleteWebhookSubscriptionPayload, { description: 'Deletes a subscription and its delivery log.' })
  async deleteWebhookSubscription(@Ctx() ctx: Context, @Arg('input') input: WebhookSubscriptionVersionInput): Promise<DeleteWebhookSubscriptionPayload> {
    return payload('deletedId', await webhooks.deleteSubscription(ctx, input));
  }

  @Authorized(...rolesFor('webhook:manage'))
  @Mutation(() => WebhookDeliveryPayload, { description: 'Sends a finished delivery again: the same message and webhook-id, with a fresh retry schedule.' })
  async redeliverWebhook(@Ctx() ctx: Context, @Arg('input') input: RedeliverWebhookInput): Promise<WebhookDeliveryPayload> {
    return payload('delivery', await webhooks.redeliver(ctx, input));
  }
}
