import { Entity, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, Float, ObjectType } from 'type-graphql';
import { BaseEntity, IngestBatch } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement } from '../agreements/agreement.entity';
import type { HandoffStats } from '../../scoring/automated';

/**
 * One unit of work passed from a provider to a customer department (DESIGN §6): a lead to Sales,
 * a new customer to Customer Service. Idempotent by (source, externalId): a re-sent event
 * updates this row. Written in bulk (`recordHandoffEvents`), so rows are facts, not audited one by
 * one; each batch is audited as a {@link HandoffBatch}.
 */
@ObjectType({ description: 'One unit of work handed from a provider to a customer department, as automation reported it.', implements: Node })
@Entity({ tableName: 'handoff_event' })
@Unique({ properties: ['source', 'externalId'] })
@Index({ properties: ['agreement', 'month'] })
@Index({ properties: ['updatedAt', 'id'] })
export class HandoffEvent extends BaseEntity {
  @Field({ description: 'The system that sent it (e.g. `crm`).' })
  @Property({ type: 'string', length: 100 })
  source!: string;

  @Field({ description: 'Its id in the source system: unique per source.' })
  @Property({ type: 'string', length: 200 })
  externalId!: string;

  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field({ description: 'e.g. `lead`, `opportunity`, `customer`.' })
  @Property({ type: 'string', length: 100 })
  stage!: string;

  @Field(() => MonthScalar, { description: 'The month of `handedOffAt` in the agreement’s time zone: the month it counts for.' })
  @Property({ type: 'string', length: 7 })
  month!: string;

  @Field(() => DateTimeScalar)
  @Property({ type: 'Date' })
  handedOffAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  respondedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  acceptedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  rejectedAt?: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  rejectionReason?: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  convertedAt?: Date | null;

  @Field(() => Float, { nullable: true, description: '0–100, given by the receiving department.' })
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  qualityScore?: number | null;

  @Field(() => Float, { nullable: true, description: 'Working hours from handoff to first response, on the agreement’s business calendar.' })
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  responseHours?: number | null;

  /**
   * The user whose integration (or admin) first sent it: a re-send by another non-admin principal
   * is refused, so one party's integration cannot rewrite the other's events by reusing its source
   * name. Null for events recorded before it was kept (anyone allowed for the agreement may re-send).
   */
  @Property({ type: 'string', length: 100, nullable: true })
  recordedByUserId?: string | null;
}

/** One call of `recordHandoffEvents`: who sent how many events, audited like any change. */
@ObjectType({ description: 'One batch of handoff events, as recorded.', implements: Node })
@Entity({ tableName: 'handoff_batch' })
export class HandoffBatch extends IngestBatch {}

/**
 * The handoff metrics of one agreement-month (DESIGN §6), recomputed from its events whenever a
 * batch touches it, so scorecards read one row instead of every event. Its columns are the
 * statistics of the pure rule (`HandoffStats`, src/scoring/automated.ts), which it implements so
 * the two cannot drift apart.
 */
@Entity({ tableName: 'handoff_month' })
@Unique({ properties: ['agreement', 'month'] })
export class HandoffMonth extends BaseEntity<'responseMedianHours' | 'responseP90Hours' | 'meanQuality'> implements HandoffStats {
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Property({ type: 'string', length: 7 })
  month!: string;

  @Property({ type: 'integer' })
  volume!: number;

  @Property({ type: 'integer' })
  accepted!: number;

  @Property({ type: 'integer' })
  rejected!: number;

  @Property({ type: 'integer' })
  converted!: number;

  @Property({ type: 'integer' })
  responded!: number;

  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  responseMedianHours: number | null = null;

  @Property({ type: 'double', runtimeType: 'number', nullable: true, fieldName: 'response_p90_hours' })
  responseP90Hours: number | null = null;

  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  meanQuality: number | null = null;
}
