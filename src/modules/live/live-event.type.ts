import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { OutboxEvent } from '../../common/outbox';

/**
 * One domain event as a live subscriber receives it (docs/events.md): the outbox envelope, the
 * type's payload as JSON, and a one-line summary for a dashboard's ticker. Named `LiveEvent` so
 * that it does not clash with the inbox's and webhooks' own types.
 */
@ObjectType({ description: 'A domain event committed to the outbox, as a live subscription delivers it (docs/events.md).' })
export class LiveEvent {
  @Field(() => ID, { description: "The event's identity (a webhook's `webhook-id`)." })
  id!: string;

  @Field(() => Int, { description: 'The outbox order (autoincrement). Events arrive in commit order, which may differ from seq order on PostgreSQL.' })
  seq!: number;

  @Field({ description: 'The event type, e.g. `report.disputed` (docs/events.md).' })
  type!: string;

  @Field(() => Int, { description: "The payload's schema version for the type." })
  version!: number;

  @Field({ description: 'When the change took effect (the request clock or the job instant).' })
  occurredAt!: Date;

  @Field(() => ID, { nullable: true })
  agreementId!: string | null;

  @Field(() => String, { nullable: true })
  agreementKey!: string | null;

  @Field(() => ID, { nullable: true, description: "The agreement's provider department (null for CORPORATE agreements)." })
  providerDepartmentId!: string | null;

  @Field(() => ID, { nullable: true, description: "The agreement's customer department (null for CORPORATE agreements)." })
  customerDepartmentId!: string | null;

  @Field(() => GraphQLJSONObject, { description: "The type's payload (docs/events.schema.json)." })
  payload!: Record<string, unknown>;

  @Field({ description: 'One line for people: the type, the agreement, and the month and revision when the payload has them.' })
  summary!: string;
}

/** The one-line summary of an event: `report.disputed · EPC · 2026-02 · revision 1`. */
export function summaryOf(event: Pick<OutboxEvent, 'type' | 'agreementKey' | 'payload'>): string {
  const parts = [event.type, event.agreementKey ?? 'no agreement'];
  const { month, revision, status } = event.payload;
  if (typeof month === 'string') parts.push(month);
  if (typeof revision === 'number') parts.push(`revision ${revision}`);
  if (typeof status === 'string') parts.push(status);
  return parts.join(' · ');
}

/** The GraphQL shape of an outbox event. */
export function toLiveEvent(event: OutboxEvent): LiveEvent {
  return {
    id: event.id,
    seq: event.seq,
    type: event.type,
    version: event.version,
    occurredAt: event.occurredAt,
    agreementId: event.agreementId,
    agreementKey: event.agreementKey,
    providerDepartmentId: event.providerDepartmentId,
    customerDepartmentId: event.customerDepartmentId,
    payload: event.payload,
    summary: summaryOf(event),
  };
}
