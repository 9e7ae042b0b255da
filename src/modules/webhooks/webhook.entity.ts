import { newId } from '../../common/ids';
import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';
import { Department } from '../departments/department.entity';

export enum WebhookStatus {
  ENABLED = 'ENABLED',
  DISABLED = 'DISABLED',
}
registerEnumType(WebhookStatus, {
  name: 'WebhookStatus',
  valuesConfig: {
    ENABLED: { description: 'Hears its events and delivers them.' },
    DISABLED: { description: 'By a person, or because the endpoint answered 410 Gone: hears nothing, its pending deliveries were cancelled.' },
  },
});

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  valuesConfig: {
    PENDING: { description: 'Waiting for its first attempt or its next retry (`nextAttemptAt`).' },
    DELIVERED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every retry of the schedule failed (about three days), or the endpoint answered 410 Gone.' },
    CANCELLED: { description: 'Its subscription was disabled before it was delivered.' },
  },
});

/**
 * A department's webhook endpoint (DESIGN §10, docs/webhooks.md): the events of its agreements
 * and of CORPORATE ones, of the chosen types, committed after it was created, POSTed to `url`
 * signed with its secret (Standard Webhooks v1). The secrets are never exposed by a field.
 */
@ObjectType({ description: 'A signed webhook endpoint of a department (Standard Webhooks v1).', implements: Node })
@Entity({ tableName: 'webhook_subscription' })
export class WebhookSubscription extends BaseEntity<'status' | 'description' | 'previousSecret' | 'previousSecretExpiresAt' | 'disabledAt' | 'disabledReason' | 'outboxTx' | 'outboxSnapshot'> {
  @Index()
  @ManyToOne(() => Department, { ref: true, deleteRule: 'restrict' })
  department!: Ref<Department>;

  @Field({ description: 'Where deliveries are POSTed.' })
  @Property({ type: 'string', length: 2000 })
  url!: string;

  @Field(() => [String], { description: 'The event types it hears (docs/events.md).' })
  @Property({ type: 'json' })
  eventTypes!: string[];

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  description?: string | null = null;

  @Field(() => WebhookStatus)
  @Property({ type: 'string', length: 20 })
  status: WebhookStatus = WebhookStatus.ENABLED;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  disabledAt?: Date | null = null;

  @Field(() => String, { nullable: true, description: 'Why it was disabled: by whom, or the 410 Gone that did it.' })
  @Property({ type: 'string', length: 500, nullable: true })
  disabledReason?: string | null = null;

  /** `whsec_<base64>`: shown once, by the creating or rotating mutation. */
  @Property({ type: 'string', length: 200, hidden: true })
  secret!: string;

  /** The secret before the last rotation, still signing beside the new one until it expires. */
  @Property({ type: 'string', length: 200, nullable: true, hidden: true })
  previousSecret?: string | null = null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Until when deliveries are also signed with the secret before the last rotation.' })
  @Property({ type: 'Date', nullable: true })
  previousSecretExpiresAt?: Date | null = null;

  /** The outbox position at creation (src/common/outbox.ts): it hears the events after it only. */
  @Property({ type: 'bigint', default: 0 })
  outboxTx: string = '0';

  @Property({ type: 'integer' })
  outboxSeq!: number;

  /**
   * PostgreSQL: the creating transaction's snapshot (`txid_current_snapshot()`, `xmin:xmax:xip…`).
   * The position above is conservative while an older transaction runs anywhere on the server
   * (events after it may have committed before the subscription); an event whose transaction
   * the snapshot saw as committed is not heard. Null on SQLite, where the position is exact.
   */
  @Property({ type: 'text', nullable: true })
  outboxSnapshot?: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  createdByUserId?: string | null;
}

/**
 * One event to send to one subscription, and how its sending went: unique per (subscription,
 * event), so the fan-out never writes one twice. Changed only with SQL by the worker (its lease,
 * attempts and outcome) and by `redeliverWebhook`.
 */
@ObjectType({ description: 'One event sent (or to be sent) to one webhook subscription, with its attempts.', implements: Node })
@Entity({ tableName: 'webhook_delivery' })
@Unique({ properties: ['subscription', 'eventId'] })
// The worker's claim order (docs/webhooks.md): due deliveries by next_attempt_at, then event_seq.
@Index({ properties: ['status', 'nextAttemptAt', 'eventSeq'] })
export class WebhookDelivery {
  [OptionalProps]?: 'status' | 'attempts' | 'cycleStart' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne(() => WebhookSubscription, { ref: true, deleteRule: 'cascade' })
  subscription!: Ref<WebhookSubscription>;

  @Field(() => ID, { description: 'The event’s id: the `webhook-id` header of every attempt.' })
  @Property({ type: 'uuid' })
  eventId!: string;

  @Field(() => Int, { description: 'The event’s place in the outbox.' })
  @Property({ type: 'integer' })
  eventSeq!: number;

  @Field()
  @Property({ type: 'string', length: 60 })
  eventType!: string;

  @Field(() => WebhookDeliveryStatus)
  @Property({ type: 'string', length: 20 })
  status: WebhookDeliveryStatus = WebhookDeliveryStatus.PENDING;

  @Field(() => Int, { description: 'Attempts made so far, redeliveries included.' })
  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  /** `attempts` when the current retry cycle began (a redelivery starts a new one). */
  @Property({ type: 'integer', default: 0 })
  cycleStart: number = 0;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it is next tried (PENDING only).' })
  @Property({ type: 'Date', nullable: true })
  nextAttemptAt?: Date | null;

  /** Claimed by a worker until then; an instance that dies lets its claim expire. */
  @Property({ type: 'Date', nullable: true })
  leaseUntil?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  lastAttemptAt?: Date | null;

  @Field(() => Int, { nullable: true, description: 'The HTTP status of the last attempt; null when it got no answer.' })
  @Property({ type: 'integer', nullable: true })
  lastResponseCode?: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed (a status, a timeout, a refused address).' })
  @Property({ type: 'string', length: 500, nullable: true })
  lastError?: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  deliveredAt?: Date | null;

  @Field(() => DateTimeScalar)
  @Property()
  createdAt: Date = new Date();

  @Field(() => DateTimeScalar)
  @Property()
  updatedAt: Date = new Date();
}
