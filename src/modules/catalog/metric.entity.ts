import { Entity, Enum, Property } from '@mikro-orm/core';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { CodedEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';

/** Whether a bigger value is better (availability) or worse (response time). */
export enum MetricDirection {
  HIGHER_IS_BETTER = 'HIGHER_IS_BETTER',
  LOWER_IS_BETTER = 'LOWER_IS_BETTER',
}
registerEnumType(MetricDirection, { name: 'MetricDirection' });

/** Who provides the values: a head's monthly report, or computation from events. */
export enum MetricSource {
  MANUAL = 'MANUAL',
  AUTOMATED = 'AUTOMATED',
}
registerEnumType(MetricSource, {
  name: 'MetricSource',
  valuesConfig: {
    MANUAL: { description: "Reported monthly by the provider's head." },
    AUTOMATED: { description: 'Computed from handoff or escalation events.' },
  },
});

/** The unit of a metric; it also gives the default bounds of its values. */
export enum MetricUnit {
  PERCENT = 'PERCENT',
  COUNT = 'COUNT',
  MINUTES = 'MINUTES',
  HOURS = 'HOURS',
  DAYS = 'DAYS',
  SCORE = 'SCORE',
  BOOLEAN = 'BOOLEAN',
}
registerEnumType(MetricUnit, {
  name: 'MetricUnit',
  valuesConfig: {
    PERCENT: { description: 'A percentage, 0 to 100 by default.' },
    COUNT: { description: 'A whole number from 0.' },
    MINUTES: { description: 'A duration in minutes, from 0.' },
    HOURS: { description: 'A duration in (working) hours, from 0.' },
    DAYS: { description: 'A duration in (working) days, from 0.' },
    SCORE: { description: 'A score on a scale the metric sets with its bounds.' },
    BOOLEAN: { description: 'Done (1) or not done (0), such as a report delivered.' },
  },
});

/** Default value bounds per unit, used when a metric is created without explicit bounds. */
export const UNIT_DEFAULTS: Record<MetricUnit, { min: number | null; max: number | null; integer: boolean }> = {
  PERCENT: { min: 0, max: 100, integer: false },
  COUNT: { min: 0, max: null, integer: true },
  MINUTES: { min: 0, max: null, integer: false },
  HOURS: { min: 0, max: null, integer: false },
  DAYS: { min: 0, max: null, integer: false },
  SCORE: { min: null, max: null, integer: false },
  BOOLEAN: { min: 0, max: 1, integer: true },
};

/** What is measured (an SLI), from the metric catalog. */
@ObjectType({ description: 'What is measured (an SLI): unit, direction, source and value bounds.', implements: Node })
@Entity({ tableName: 'metric' })
export class Metric extends CodedEntity {
  // A plain string column, not @Enum: MikroORM 6 misreads SQLite enum checks of more than two
  // items (it sees the first and last only) and its CHECK comparison on PostgreSQL is unstable,
  // so the schema diff never came out empty. The GraphQL enum keeps values valid.
  @Field(() => MetricUnit)
  @Property({ type: 'string', length: 20 })
  unit!: MetricUnit;

  @Field(() => MetricDirection)
  @Enum({ items: () => MetricDirection })
  direction!: MetricDirection;

  @Field(() => MetricSource)
  @Enum({ items: () => MetricSource })
  source!: MetricSource;

  @Field(() => String)
  @Property({ type: 'text', default: '' })
  description: string = '';

  @Field(() => Float, { nullable: true, description: 'Smallest valid value, if any.' })
  @Property({ type: 'double', nullable: true, runtimeType: 'number' })
  minValue?: number | null;

  @Field(() => Float, { nullable: true, description: 'Largest valid value, if any.' })
  @Property({ type: 'double', nullable: true, runtimeType: 'number' })
  maxValue?: number | null;

  @Field({ description: 'Whether values must be whole numbers (counts).' })
  @Property({ type: 'boolean', default: false })
  integerOnly: boolean = false;

  @Field({ description: 'Whether a report on this metric carries structured customer-friction items (category, what happened, customers affected, severity).' })
  @Property({ type: 'boolean', default: false })
  collectsFrictionItems: boolean = false;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  archivedAt?: Date | null;
}
