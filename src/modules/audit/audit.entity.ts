import { newId } from '../../common/ids';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';

/** Who made a change: a principal's role, or SYSTEM for the scheduler and the webhook worker. */
export enum AuditActorRole {
  ADMIN = 'ADMIN',
  HEAD = 'HEAD',
  ANALYST = 'ANALYST',
  INTEGRATION = 'INTEGRATION',
  SYSTEM = 'SYSTEM',
}
registerEnumType(AuditActorRole, {
  name: 'AuditActorRole',
  description: 'The role of whoever made a change (see Role), or SYSTEM for time-driven work (the scheduler, webhook fan-out).',
  valuesConfig: { SYSTEM: { description: 'The scheduler or the webhook worker; the audit entry’s requestId names which job.' } },
});

/**
 * One change of state, append-only: who (user, role, request), when, what (entity, action) and
 * the values before and after. Written by the audit subscriber in the same flush (and so the same
 * transaction) as the change itself; database triggers refuse UPDATE and DELETE.
 */
@ObjectType({ description: 'One change of state, as recorded (append-only).', implements: Node })
@Entity({ tableName: 'audit_entry' })
@Index({ properties: ['entityType', 'entityId', 'at'] })
export class AuditEntry {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field(() => DateTimeScalar)
  @Index()
  @Property({ type: 'Date' })
  at: Date = new Date();

  @Field(() => ID, { nullable: true, description: 'The user who made the change; null for the system (seeds, CLI).' })
  @Property({ type: 'string', length: 100, nullable: true })
  actorUserId?: string | null;

  @Field(() => AuditActorRole, { nullable: true, description: 'Null for changes made outside a request or job (seeds, migrations, the CLI).' })
  @Property({ type: 'string', length: 20, nullable: true })
  actorRole?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  requestId?: string | null;

  @Field({ description: 'Entity type, e.g. `Department`.' })
  @Property({ type: 'string', length: 60 })
  entityType!: string;

  @Field(() => ID)
  @Property({ type: 'string', length: 100 })
  entityId!: string;

  @Field({ description: '`create`, `update`, `delete`, or a named transition such as `archive` or `revoke`.' })
  @Property({ type: 'string', length: 40 })
  action!: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Values before the change (changed fields only, for updates).' })
  @Property({ type: 'json', nullable: true })
  before?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Values after the change (all fields for creations).' })
  @Property({ type: 'json', nullable: true })
  after?: Record<string, unknown> | null;
}
