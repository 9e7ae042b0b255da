import { Entity, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, Float, ObjectType } from 'type-graphql';
import { Node } from '../../common/node';
import { BaseEntity, IngestBatch } from '../../common/base.entity';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement } from '../agreements/agreement.entity';
import { Metric } from '../catalog/metric.entity';

/**
 * One value of an EXTERNAL metric pushed by a monitoring or ticketing system (issue 16, DESIGN §6),
 * over an interval: a monthly value is stored as its month's interval in the agreement's time zone,
 * with `month` set. Idempotent by (source, externalId): a re-sent measurement updates this row.
 * Written in bulk (`recordMeasurements`); each batch is audited as a {@link MeasurementBatch}.
 */
@ObjectType({ description: 'One value of an EXTERNAL metric over an interval (or a month), as another system pushed it.', implements: Node })
@Entity({ tableName: 'measurement' })
@Unique({ properties: ['source', 'externalId'] })
@Index({ properties: ['agreement', 'metric', 'startsAt'] })
@Index({ properties: ['updatedAt', 'id'] })
export class Measurement extends BaseEntity {
  @Field({ description: 'The system that sent it (e.g. `monitoring`).' })
  @Property({ type: 'string', length: 100 })
  source!: string;

  @Field({ description: 'Its id in the source system: unique per source.' })
  @Property({ type: 'string', length: 200 })
  externalId!: string;

  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @ManyToOne(() => Metric, { ref: true, deleteRule: 'restrict' })
  metric!: Ref<Metric>;

  @Field(() => MonthScalar, { nullable: true, description: 'The month a monthly value was given for; null for an interval.' })
  @Property({ type: 'string', length: 7, nullable: true })
  month?: string | null;

  @Field(() => DateTimeScalar, { description: 'Start of the interval measured (inclusive).' })
  @Property({ type: 'Date' })
  startsAt!: Date;

  @Field(() => DateTimeScalar, { description: 'End of the interval measured (exclusive).' })
  @Property({ type: 'Date' })
  endsAt!: Date;

  @Field(() => Float, { description: 'In the metric’s unit (availability: 100 up, 0 down).' })
  @Property({ type: 'double', runtimeType: 'number' })
  value!: number;

  /**
   * The user whose integration (or admin) first sent it: a re-send by another non-admin principal
   * is refused, so one party's integration cannot rewrite the other's data by reusing its source
   * name. Null for rows recorded before it was kept (anyone allowed for the agreement may re-send).
   */
  @Property({ type: 'string', length: 100, nullable: true })
  recordedByUserId?: string | null;
}

/** One call of `recordMeasurements`: who sent how many measurements, audited like any change. */
@ObjectType({ description: 'One batch of measurements, as recorded.', implements: Node })
@Entity({ tableName: 'measurement_batch' })
export class MeasurementBatch extends IngestBatch {}

/**
 * The value of one EXTERNAL metric in one agreement-month, recomputed from its measurements
 * (src/scoring/measurements.ts) whenever a batch touches it, so scorecards read one row instead of
 * every measurement. No row: no measurement overlaps the month.
 */
@Entity({ tableName: 'measurement_month' })
@Unique({ properties: ['agreement', 'metric', 'month'] })
@Index({ properties: ['agreement', 'month'] })
export class MeasurementMonth extends BaseEntity {
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @ManyToOne(() => Metric, { ref: true, deleteRule: 'restrict' })
  metric!: Ref<Metric>;

  @Property({ type: 'string', length: 7 })
  month!: string;

  @Property({ type: 'double', runtimeType: 'number' })
  value!: number;

  @Property({ type: 'integer' })
  measurements!: number;
}
