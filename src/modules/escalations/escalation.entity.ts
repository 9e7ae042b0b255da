import { Entity, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity, IngestBatch } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement } from '../agreements/agreement.entity';
import { Severity } from '../../common/severity';

/** DESIGN §5: OPEN → ACKNOWLEDGED → RESOLVED. */
export enum EscalationStatus {
  OPEN = 'OPEN',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  RESOLVED = 'RESOLVED',
}
registerEnumType(EscalationStatus, { name: 'EscalationStatus' });

/**
 * A critical problem raised against an agreement, with response and resolution clocks measured
 * on the agreement's business calendar (CRITICAL around the clock) against the policy of the
 * version in force when it was opened.
 */
@ObjectType({ description: 'A problem raised against an agreement, with its response and resolution clocks.', implements: Node })
@Entity({ tableName: 'escalation' })
@Index({ properties: ['agreement', 'month'] })
@Unique({ properties: ['source', 'externalId'] })
export class Escalation extends BaseEntity<'status'> {
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => Severity)
  @Property({ type: 'string', length: 20 })
  severity!: Severity;

  @Field()
  @Property({ type: 'string', length: 300 })
  title!: string;

  @Field()
  @Property({ type: 'text' })
  description!: string;

  @Field(() => EscalationStatus)
  @Property({ type: 'string', length: 20 })
  status: EscalationStatus = EscalationStatus.OPEN;

  @Field(() => MonthScalar, { description: 'The month it counts for: when it was opened, in the agreement’s time zone.' })
  @Property({ type: 'string', length: 7 })
  month!: string;

  @Field(() => DateTimeScalar)
  @Property({ type: 'Date' })
  openedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  acknowledgedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  resolvedAt?: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  resolution?: string | null;

  @Field(() => Float, { description: 'The policy’s response target for the severity when opened (working hours; CRITICAL: clock hours).' })
  @Property({ type: 'double', runtimeType: 'number' })
  responseTargetHours!: number;

  @Field(() => Float)
  @Property({ type: 'double', runtimeType: 'number' })
  resolutionTargetHours!: number;

  @Field(() => Float, { nullable: true, description: 'Hours from opening to acknowledgement, on the clock of the severity.' })
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  responseHours?: number | null;

  @Field(() => Float, { nullable: true, description: 'Hours from opening to resolution, on the clock of the severity.' })
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  resolutionHours?: number | null;

  @Property({ type: 'string', length: 100 })
  openedByUserId!: string;

  @Field(() => String, { nullable: true, description: 'The system that sent it (`recordEscalations`), e.g. `ticketing`; null when opened by `openEscalation`.' })
  @Property({ type: 'string', length: 100, nullable: true })
  source?: string | null;

  @Field(() => String, { nullable: true, description: 'Its id in the source system, unique per source.' })
  @Property({ type: 'string', length: 200, nullable: true })
  externalId?: string | null;
}

/** One call of `recordEscalations`: who sent how many escalations, audited like any change. */
@ObjectType({ description: 'One batch of escalations from a ticketing system, as recorded.', implements: Node })
@Entity({ tableName: 'escalation_batch' })
export class EscalationBatch extends IngestBatch {}
