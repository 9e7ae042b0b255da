import { ArrayMaxSize, ArrayMinSize, IsArray, IsEnum, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { ArgsType, Field, ID, InputType } from 'type-graphql';
import { PageArgs } from '../../common/connection';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { WebhookDeliveryStatus } from './webhook.entity';

@InputType({ description: 'A new webhook endpoint of a department.' })
export class CreateWebhookSubscriptionInput {
  @Field({ description: 'The department whose events it hears: its id or its code (heads: their own; admins: any).' })
  @IsString({ message: 'department: expected a department id or code' })
  @Length(1, 100, { message: 'department: expected a department id or code' })
  department!: string;

  @Field({ description: 'Where deliveries are POSTed: https (http only when WEBHOOK_ALLOW_HTTP=true), a public address unless WEBHOOK_ALLOW_PRIVATE=true.' })
  @IsString({ message: 'url: expected a URL' })
  url!: string;

  @Field(() => [String], { description: 'The event types to hear (docs/events.md), at least one.' })
  @IsArray({ message: 'eventTypes: expected a list of event types' })
  @ArrayMinSize(1, { message: 'eventTypes: expected at least one event type' })
  @ArrayMaxSize(100, { message: 'eventTypes: expected at most 100 event types' })
  eventTypes!: string[];

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(0, 500, { message: 'description: expected at most 500 characters' })
  description?: string | null;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType({ description: 'A webhook subscription and the version the caller read.' })
export class WebhookSubscriptionVersionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a webhook subscription id (UUID)' })
  id!: string;

  @ExpectedVersionField()
  expectedVersion!: number;
}

@InputType({ description: 'Disables a webhook subscription: it hears nothing more and its pending deliveries are cancelled.' })
export class DisableWebhookSubscriptionInput extends WebhookSubscriptionVersionInput {
  @Field(() => String, { nullable: true, description: 'Why, kept as its disabledReason.' })
  @IsOptional()
  @Length(0, 400, { message: 'reason: expected at most 400 characters' })
  reason?: string | null;
}

@InputType({ description: 'Sends a delivery again: a new attempt of the same message (same webhook-id).' })
export class RedeliverWebhookInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'deliveryId: expected a webhook delivery id (UUID)' })
  deliveryId!: string;
}

@ArgsType()
export class WebhookDeliveryArgs extends PageArgs {
  @Field(() => WebhookDeliveryStatus, { nullable: true })
  @IsOptional()
  @IsEnum(WebhookDeliveryStatus)
  status?: WebhookDeliveryStatus | null;
}
